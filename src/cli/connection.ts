// Where the server is, which key to use and which CA to trust for its TLS certificate: flags, then
// the environment (with .env already loaded by main.ts), then the key file a fresh install
// generates in the data directory, so `aspen` works with no set-up next to a server started with
// `npm start`.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { API_KEY_FILE } from '../service/shared-secrets.ts';
import { ApiClient } from './api-client.ts';
import { stringOption, type ParsedArgs } from './args.ts';
import { CliError } from './errors.ts';

export function connect(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const url = (stringOption(args, 'url') ?? nonEmpty(env.ASPEN_URL) ?? serverUrl(env)).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url)) throw new CliError(`not an http(s) URL: ${url}`);
  const apiKey = stringOption(args, 'api-key') ?? nonEmpty(env.API_KEY) ?? keyFromFile(env);
  if (apiKey === undefined) {
    throw new CliError('no API key: set API_KEY, pass --api-key, or run aspen where the server keeps its data directory');
  }
  return new ApiClient({ baseUrl: url, apiKey, ca: trustedCa(args, env) });
}

/** A private CA (or the server's self-signed certificate) to trust: --cacert, else ASPEN_CACERT. */
function trustedCa(args: ParsedArgs, env: NodeJS.ProcessEnv): { pem: string; source: string } | undefined {
  const flag = stringOption(args, 'cacert');
  const path = flag ?? nonEmpty(env.ASPEN_CACERT);
  if (path === undefined) return undefined;
  const source = flag === undefined ? `ASPEN_CACERT (${path})` : path;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read the CA certificate ${source}: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`${source} holds no PEM certificate`);
  return { pem, source };
}

/**
 * Without ASPEN_URL, the server this configuration describes (the CLI has read the same .env or
 * environment file): its PORT on this machine, over https when it serves TLS itself.
 */
function serverUrl(env: NodeJS.ProcessEnv): string {
  const host = nonEmpty(env.HOST);
  const local = host === undefined || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `${nonEmpty(env.TLS_CERT) ? 'https' : 'http'}://${local}:${nonEmpty(env.PORT) ?? '9000'}`;
}

function keyFromFile(env: NodeJS.ProcessEnv): string | undefined {
  const path = join(resolve(nonEmpty(env.DATA_DIR) ?? './data'), API_KEY_FILE);
  return existsSync(path) ? nonEmpty(readFileSync(path, 'utf8').trim()) : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
