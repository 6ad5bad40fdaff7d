// A console user over real HTTP, as a browser without JavaScript is: it keeps cookies, reads the
// CSRF token out of the forms it is shown, and posts forms url-encoded.
import type { TestServer } from './aspen-server.ts';

export interface Page {
  status: number;
  headers: Headers;
  text: string;
  /** The first form's hidden _csrf value on the page. */
  csrf(): string;
}

export class ConsoleClient {
  private readonly cookies = new Map<string, string>();
  /** The CSRF token of the last page that had a form. */
  csrfSeen = '';

  constructor(readonly server: Pick<TestServer, 'url'>) {}

  /** Adds an account through the server's own service, then logs in with it. */
  static async loggedIn(server: TestServer, name: string, role: 'viewer' | 'operator' | 'admin', password = `${name}-password-123`): Promise<ConsoleClient> {
    await server.aspen.accounts.add(name, role, password);
    const client = new ConsoleClient(server);
    const login = await client.login(name, password);
    if (login.status !== 303) throw new Error(`login as ${name} failed: ${login.status} ${login.text.slice(0, 300)}`);
    return client;
  }

  async login(name: string, password: string): Promise<Page> {
    const form = await this.get('/ui/login');
    return this.post('/ui/login', { _csrf: form.csrf(), name, password });
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(path: string): Promise<Page> {
    return this.request('GET', path);
  }

  /** Posts a form; `fields` values that are arrays are sent once per value (checkboxes). */
  post(path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Page> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const value of Array.isArray(v) ? v : [v]) body.append(k, value);
    return this.request('POST', path, body.toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  async request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Page> {
    const response = await fetch(this.server.url + path, { method, body, redirect: 'manual', headers: { cookie: this.cookieHeader(), ...headers } });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    this.csrfSeen = /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? this.csrfSeen;
    return {
      status: response.status,
      headers: response.headers,
      text,
      csrf() {
        const match = /name="_csrf" value="([^"]+)"/.exec(text);
        if (!match) throw new Error(`no CSRF field on the page: ${text.slice(0, 300)}`);
        return match[1]!;
      },
    };
  }
}
