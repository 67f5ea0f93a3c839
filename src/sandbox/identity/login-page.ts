/** The sign-in page: a plain form, and the demo customers listed on it, since this is a sandbox. */
import type { DemoCustomer } from './customers.ts';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

export function loginPage(uid: string, customers: readonly DemoCustomer[], error?: string): string {
  const rows = customers
    .map(
      (customer) =>
        `<tr><td><code>${escapeHtml(customer.login)}</code></td><td><code>${escapeHtml(customer.password)}</code></td>` +
        `<td>${escapeHtml(customer.name)}</td><td>${escapeHtml(customer.spendLimit ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in (sandbox)</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto}label,button{display:block;margin:.5rem 0}
.error{color:#b00020}td{padding:.2rem .8rem .2rem 0}</style></head>
<body>
<h1>Sign in</h1>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(uid)}/login">
<label>Login <input name="login" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<h2>Demo accounts</h2>
<table><tr><th>Login</th><th>Password</th><th>Name</th><th>Spend limit a day</th></tr>
${rows}
</table>
</body>
</html>
`;
}
