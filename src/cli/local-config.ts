// The server's own configuration, for commands that work on the installation directly. main.ts
// has loaded .env already, so this sees exactly what `npm start` in the same directory would.
import type { Config } from '../config.ts';
import { CliError } from './errors.ts';

export async function serverConfig(): Promise<Config> {
  // Loaded on use: its validation library is a startup cost the server commands should not pay.
  const { loadConfig } = await import('../config.ts');
  try {
    return loadConfig();
  } catch (err) {
    return asCliError(err);
  }
}

/** A configuration problem in the same words as the server's refusal to start; anything else rethrown. */
export async function asCliError(err: unknown): Promise<never> {
  const { ConfigError } = await import('../config.ts');
  if (err instanceof ConfigError) throw new CliError(`invalid configuration: ${err.message}`);
  throw err;
}
