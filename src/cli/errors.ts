// Errors the CLI reports as one line on stderr. Anything else escaping a command is a bug and
// keeps its stack trace.

/** A failure to report to the user; exits 1. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number = 1;
}

/** The command line itself is wrong; exits 2, as most Unix tools do, so scripts can tell the two apart. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  override readonly exitCode = 2;
}

/** The admin API answered with an error; `message` is the API's own. */
export class ApiError extends CliError {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
