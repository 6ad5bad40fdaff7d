// The admin API over HTTP(S): Bearer auth, JSON in and out, and the API's error envelope turned
// into an ApiError carrying the server's own message. node:http(s) rather than fetch, because a
// server with a private TLS certificate needs its CA trusted per request (--cacert), which fetch
// cannot take.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ApiError, CliError } from './errors.ts';

/** Query parameters; an array repeats its parameter. */
export type Query = Record<string, string | readonly string[] | undefined>;

/** A request body and its media type. */
export interface RequestBody {
  type: string;
  data: string | Buffer;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /** PEM certificates to trust for an https server, besides the system's; and where they came from. */
  ca?: { pem: string; source: string };
}

/** OpenSSL's verdicts on a certificate chain it could not anchor in a trusted root. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

export class ApiClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #ca: ApiClientOptions['ca'];

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.#apiKey = options.apiKey;
    this.#ca = options.ca;
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path + queryString(query));
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body === undefined ? undefined : { type: 'application/json', data: JSON.stringify(body) });
  }

  /** A body sent as it is (the push certificate upload takes PEM text, not JSON). */
  put<T>(path: string, body: RequestBody, query: Query = {}): Promise<T> {
    return this.request<T>('PUT', path + queryString(query), body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { type: 'application/json', data: JSON.stringify(body) });
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /** A GET whose answer is a file, not JSON (an enrollment profile); an error's text becomes the message. */
  async download(path: string): Promise<Buffer> {
    const url = new URL(this.baseUrl + path);
    const res = await this.send(url, { method: 'GET', ...(url.protocol === 'https:' && this.#ca ? { ca: [...rootCertificates, this.#ca.pem] } : {}) }, undefined);
    if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, 'http', res.text.trim() || `HTTP ${res.status} ${res.statusText} from ${this.baseUrl}${path}`);
    return res.bytes;
  }

  /** A change answered KMFDDM's way, without a body: true for 204 (changed), false for 304 (nothing changed). */
  async change(method: 'PUT' | 'POST' | 'DELETE', path: string, query: Query = {}, body?: RequestBody): Promise<boolean> {
    return (await this.exchange(method, path + queryString(query), body)).status !== 304;
  }

  /** A body as the server sent it, with its headers (a stored document). */
  async raw(path: string, query: Query = {}): Promise<{ text: string; headers: IncomingMessage['headers'] }> {
    return this.exchange('GET', path + queryString(query));
  }

  private async request<T>(method: string, path: string, body?: RequestBody): Promise<T> {
    const json = parseJson((await this.exchange(method, path, body)).text);
    if (json === undefined) throw new CliError(`${method} ${path}: the server did not answer JSON (is ${this.baseUrl} an Aspen server?)`);
    return json as T;
  }

  /** Sends a request; an answer other than 2xx or 304 is an ApiError with the server's message
   *  (Aspen's error envelope, or KMFDDM's `{"error": "..."}`). */
  private async exchange(method: string, path: string, body?: RequestBody): Promise<{ status: number; text: string; headers: IncomingMessage['headers'] }> {
    const url = new URL(this.baseUrl + path);
    const res = await this.send(url, {
      method,
      headers: { authorization: `Bearer ${this.#apiKey}`, ...(body ? { 'content-type': body.type, 'content-length': Buffer.byteLength(body.data) } : {}) },
      // With a CA of its own, the system's roots stay trusted too: the same flag works for both.
      ...(url.protocol === 'https:' && this.#ca ? { ca: [...rootCertificates, this.#ca.pem] } : {}),
    }, body?.data);
    if ((res.status >= 200 && res.status < 300) || res.status === 304) return res;
    const json = parseJson(res.text) as { error?: string | { code?: string; message?: string; details?: unknown }; errors?: unknown } | undefined;
    const error = json?.error;
    if (typeof error === 'string') throw new ApiError(res.status, 'error', error, json?.errors);
    if (error?.message !== undefined) throw new ApiError(res.status, error.code ?? 'error', error.message, error.details);
    throw new ApiError(res.status, 'http', `HTTP ${res.status} ${res.statusText} from ${this.baseUrl}${path}`);
  }

  private send(url: URL, options: RequestOptions, body: string | Buffer | undefined): Promise<{ status: number; statusText: string; text: string; bytes: Buffer; headers: IncomingMessage['headers'] }> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: bytes.toString('utf8'), bytes, headers: res.headers });
        });
        res.on('error', (err) => reject(this.connectionError(err)));
      });
      req.on('error', (err) => reject(this.connectionError(err)));
      req.end(body);
    });
  }

  /** Why the server could not be talked to, in words that say what to do about it. */
  private connectionError(err: Error & { code?: string; host?: string; cert?: { subjectaltname?: string } }): CliError {
    const code = err.code ?? err.message;
    if (UNTRUSTED.has(code)) {
      const trusted = this.#ca ? `neither the system's CAs nor ${this.#ca.source} vouch for it` : 'pass --cacert FILE or set ASPEN_CACERT to the CA that issued it';
      return new CliError(`the TLS certificate of ${this.baseUrl} is not trusted (${code}): ${trusted}`);
    }
    if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
      return new CliError(`the TLS certificate of ${this.baseUrl} is not valid now (${code})`);
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return new CliError(`the TLS certificate of ${this.baseUrl} is for another host (${err.cert?.subjectaltname ?? 'no subjectAltName'}), not ${err.host}`);
    }
    return new CliError(`the Aspen server is not reachable at ${this.baseUrl} (${code})`);
  }
}

/** Path segments are ids chosen by devices; user channel ids contain ':' and may contain anything. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (typeof value === 'string') params.set(key, value);
    else for (const v of value ?? []) params.append(key, v);
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
