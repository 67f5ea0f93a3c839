/**
 * A real token through the provider's own pages: what a browser and the storefront do, in code.
 * The authorization request with PKCE (S256), the sign-in form posted, the consent, and the code
 * exchanged at the token endpoint. Cookies are kept per path, as a browser keeps them.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface CodeFlowRequest {
  issuer: string;
  clientId: string;
  redirectUri: string;
  login: string;
  password: string;
  scopes: readonly string[];
}

export interface Tokens {
  accessToken: string;
  expiresIn: number;
  idToken?: string;
  refreshToken?: string;
}

/** The hops a sign-in takes: authorization, sign-in, resume, consent, resume, the redirect to the client. */
const MAX_HOPS = 8;

export async function runCodeFlow(flow: CodeFlowRequest): Promise<Tokens> {
  const discovery = (await (await fetch(`${flow.issuer}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  let url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: flow.clientId,
    response_type: 'code',
    redirect_uri: flow.redirectUri,
    scope: flow.scopes.join(' '),
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const browser = new Browser();
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    let response = await browser.go(url);
    if (response.status === 200 && url.pathname.startsWith('/interaction/')) {
      const action = /<form method="post" action="([^"]+)"/.exec(await response.text())?.[1];
      if (!action) throw new Error(`no sign-in form at ${url.pathname}`);
      response = await browser.go(new URL(action, url), new URLSearchParams({ login: flow.login, password: flow.password }));
      if (response.status === 403) throw new Error(`${flow.login}: wrong login or password`);
    }
    const location = response.headers.get('location');
    if (!(response.status >= 300 && response.status < 400 && location)) {
      throw new Error(`the sign-in stopped at ${url.pathname}: ${response.status} ${await response.text()}`);
    }
    url = new URL(location, url);
    if (`${url.origin}${url.pathname}` === flow.redirectUri) {
      return exchange(discovery.token_endpoint, flow, verifier, codeFrom(url, state));
    }
  }
  throw new Error(`the sign-in took more than ${MAX_HOPS} hops`);
}

function codeFrom(redirect: URL, state: string): string {
  const params = redirect.searchParams;
  if (params.get('error')) throw new Error(`the authorization was refused: ${params.get('error')} (${params.get('error_description')})`);
  if (params.get('state') !== state) throw new Error('the authorization answered another state');
  return params.get('code')!;
}

async function exchange(tokenEndpoint: string, flow: CodeFlowRequest, verifier: string, code: string): Promise<Tokens> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: flow.redirectUri,
      client_id: flow.clientId,
      code_verifier: verifier,
    }),
  });
  const body = (await response.json()) as {
    access_token?: string;
    expires_in?: number;
    id_token?: string;
    refresh_token?: string;
    error_description?: string;
  };
  if (!response.ok || !body.access_token)
    throw new Error(`the token endpoint refused the code: ${body.error_description ?? response.status}`);
  return { accessToken: body.access_token, expiresIn: body.expires_in!, idToken: body.id_token, refreshToken: body.refresh_token };
}

/** Requests without following redirects, sending and keeping cookies by name and path. */
class Browser {
  private readonly cookies = new Map<string, { path: string; name: string; value: string }>();

  async go(url: URL, form?: URLSearchParams): Promise<Response> {
    const cookie = [...this.cookies.values()]
      .filter((each) => url.pathname === each.path || url.pathname.startsWith(each.path.endsWith('/') ? each.path : `${each.path}/`))
      .map((each) => `${each.name}=${each.value}`)
      .join('; ');
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      body: form,
      redirect: 'manual',
      headers: cookie ? { cookie } : {},
    });
    for (const line of response.headers.getSetCookie()) this.keep(line);
    return response;
  }

  private keep(line: string): void {
    const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
    const name = pair.slice(0, pair.indexOf('='));
    const value = pair.slice(pair.indexOf('=') + 1);
    const attribute = (key: string) => attributes.find((each) => each.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const path = attribute('path') ?? '/';
    const expires = attribute('expires');
    const gone = value === '' || attribute('max-age') === '0' || (expires !== undefined && Date.parse(expires) <= Date.now());
    if (gone) this.cookies.delete(`${path} ${name}`);
    else this.cookies.set(`${path} ${name}`, { path, name, value });
  }
}
