// The admin API over HTTP: Bearer auth, JSON in and out, and the API's error envelope turned into
// an ApiError carrying the server's own message.
import { ApiError, CliError } from './errors.ts';

export type Query = Record<string, string | undefined>;

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.request<T>('GET', path + queryString(query));
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      // fetch hides the socket error (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`the Aspen server is not reachable at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message})`);
    }
    const text = await res.text();
    const json = parseJson(text);
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      if (error?.message !== undefined) throw new ApiError(res.status, error.code ?? 'error', error.message, error.details);
      throw new ApiError(res.status, 'http', `HTTP ${res.status} ${res.statusText} from ${this.baseUrl}${path}`);
    }
    if (json === undefined) throw new CliError(`${method} ${path}: the server did not answer JSON (is ${this.baseUrl} an Aspen server?)`);
    return json as T;
  }
}

/** Path segments are ids chosen by devices; user channel ids contain ':' and may contain anything. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
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
