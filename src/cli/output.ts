// stdout for results, stderr for diagnostics. Nothing calls process.exit, so piped output is
// always flushed before the process ends.

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** --json: the API's JSON as it came, indented for reading, one document per run. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

export function warn(text: string): void {
  process.stderr.write(`${text}\n`);
}
