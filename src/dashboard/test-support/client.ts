/** An in-process client of the dashboard (Fastify inject) that signs in like a browser does. */
import type { FastifyInstance } from 'fastify';

/** A signed-in (or not) client keeping its cookies. */
export class DashClient {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly app: FastifyInstance,
    readonly remoteAddress = '127.0.0.1',
  ) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  #keep(setCookie: string | string[] | undefined): void {
    for (const c of [setCookie ?? []].flat()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const k = pair!.slice(0, i);
      const v = pair!.slice(i + 1);
      if (/Max-Age=0/.test(c)) this.cookies.delete(k);
      else this.cookies.set(k, v);
    }
  }

  /** A request with the client's cookies; remembers the cookies set. */
  async request(
    method: 'GET' | 'POST',
    url: string,
    opts: { form?: Record<string, string | string[]>; json?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader;
    let payload: string | undefined;
    if (opts.form) {
      const u = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.form)) for (const x of [v].flat()) u.append(k, x);
      payload = u.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (opts.json !== undefined) {
      payload = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    const res = await this.app.inject({ method, url, headers, payload, remoteAddress: this.remoteAddress });
    this.#keep(res.headers['set-cookie']);
    return res;
  }

  /** Signs in through the form (password or token); returns the POST's response. */
  async signIn(
    creds: { name: string; password: string } | { token: string },
    next = '/production/dashboard/',
  ) {
    const page = await this.request('GET', `/production/dashboard/login?next=${encodeURIComponent(next)}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    return this.request('POST', '/production/dashboard/login', { form: { _csrf: csrf, next, ...creds } });
  }

  /** The CSRF token of a page (its meta tag). */
  async csrf(url = '/production/dashboard/silences'): Promise<string> {
    const page = await this.request('GET', url);
    return /<meta name="csrf-token" content="([^"]*)">/.exec(page.body)?.[1] ?? '';
  }
}
