/** The sign-in page: a user name and password, or an API token; says what to configure when nothing is. */
import { html, type SafeHtml } from '../html.js';

/** What the sign-in page shows. */
export interface LoginView {
  action: string;
  /** The double-submit token of the form. */
  csrf: string;
  next: string;
  users: boolean;
  tokens: boolean;
  error?: string | null;
  name?: string;
}

/** The sign-in forms. */
export function loginSection(v: LoginView): SafeHtml {
  const hidden = html`<input type="hidden" name="_csrf" value="${v.csrf}"><input type="hidden" name="next" value="${v.next}">`;
  const error = v.error ? html`<div class="notice error" role="alert" id="login-error">${v.error}</div>` : '';
  if (!v.users && !v.tokens) {
    return html`<div class="login card"><h1>Sign in to prodmon</h1>
<div class="empty-state" role="note">No way to sign in is configured. Add an API token or a user to <code>prodmon.yaml</code>:
<pre class="log">auth:
  tokens:
    - { name: ops, token: "\${PRODMON_OPS_TOKEN}", role: admin }
  users:
    - { name: alice, password_hash: "scrypt$...", role: read }</pre>
Make a token with <code>openssl rand -hex 24</code>; a password hash as described in docs/dashboard.md.</div></div>`;
  }
  return html`<div class="login card"><h1>Sign in to prodmon</h1>${error}
${
  v.users
    ? html`<form method="post" action="${v.action}" aria-label="Sign in with a user name and password">${hidden}
<label>User name<input name="name" autocomplete="username" required value="${v.name ?? ''}" autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" class="primary">Sign in</button></form>`
    : ''
}
${v.users && v.tokens ? html`<div class="or">or</div>` : ''}
${
  v.tokens
    ? html`<form method="post" action="${v.action}" aria-label="Sign in with an API token">${hidden}
<label>API token<input name="token" type="password" autocomplete="off" required${v.users ? '' : html` autofocus`}></label>
<button type="submit"${v.users ? '' : html` class="primary"`}>Sign in with token</button></form>`
    : ''
}</div>`;
}
