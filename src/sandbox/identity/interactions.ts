/**
 * The provider's interactions, served beside it under /interaction/:uid: the sign-in form, and the
 * consent, granted at once because the storefront is the shop's own client. A customer is granted
 * the gateway scopes it asked for among those it may have, and refused the others.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { readBody } from '../http/form.ts';
import { customerWithLogin, customerWithSubject, DEMO_CUSTOMERS } from './customers.ts';
import { loginPage } from './login-page.ts';

export const INTERACTION_PREFIX = '/interaction/';

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** What the consent prompt says is not granted yet, as oidc-provider fills `prompt.details`. */
interface MissingGrants {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export async function answerInteraction(
  provider: Provider,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): Promise<void> {
  const posted = path.endsWith('/login');
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(request, response);
  } catch (error) {
    if (!(error instanceof errors.SessionNotFound)) throw error;
    sendHtml(response, 400, '<p>This sign-in has expired or was never started: go back to the shop and sign in again.</p>');
    return;
  }
  if (interaction.prompt.name === 'login' && !posted && request.method === 'GET') {
    sendHtml(response, 200, loginPage(interaction.uid, DEMO_CUSTOMERS));
  } else if (interaction.prompt.name === 'login' && posted && request.method === 'POST') {
    await signIn(provider, request, response, interaction);
  } else if (interaction.prompt.name === 'consent' && !posted && request.method === 'GET') {
    await consent(provider, request, response, interaction);
  } else {
    sendHtml(response, 404, '<p>Not found.</p>');
  }
}

async function signIn(provider: Provider, request: IncomingMessage, response: ServerResponse, interaction: Interaction): Promise<void> {
  const form = new URLSearchParams((await readBody(request)).toString('utf8'));
  const customer = customerWithLogin(form.get('login') ?? '');
  if (!customer || customer.password !== form.get('password')) {
    sendHtml(response, 403, loginPage(interaction.uid, DEMO_CUSTOMERS, 'Wrong login or password.'));
    return;
  }
  await provider.interactionFinished(request, response, { login: { accountId: customer.subject } }, { mergeWithLastSubmission: false });
}

async function consent(provider: Provider, request: IncomingMessage, response: ServerResponse, interaction: Interaction): Promise<void> {
  const accountId = interaction.session!.accountId;
  const allowed = new Set(customerWithSubject(accountId)?.scopes);
  const grant =
    (interaction.grantId && (await provider.Grant.find(interaction.grantId))) ||
    new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
  const missing = interaction.prompt.details as MissingGrants;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope);
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    const granted = scopes.filter((scope) => allowed.has(scope));
    const refused = scopes.filter((scope) => !allowed.has(scope));
    if (granted.length > 0) grant.addResourceScope(resource, granted);
    if (refused.length > 0) grant.rejectResourceScope(resource, refused);
  }
  const grantId = await grant.save();
  await provider.interactionFinished(request, response, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  response.end(html);
}
