import { ConfigError } from '../settings.ts';
import { loadSandboxConfig, type SandboxConfig } from './config.ts';
import { flavourNamed } from './flavours.ts';
import { createSandbox } from './index.ts';

function config(): SandboxConfig {
  try {
    return loadSandboxConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const { port, host, timeScale, seed, flavour, api, identity } = config();

function cannotListen(what: string, port: number): (error: unknown) => never {
  return (error) => {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(`${what} could not listen on ${host}:${port}: ${reason}`);
    process.exit(1);
  };
}

const sandbox = await createSandbox({ port, host, timeScale, seed, flavour, api }).catch(cannotListen('sandbox', port));
// Imported once the settings are good: oidc-provider warns about Node 20 as it loads, and a bad
// setting's one line should be all that stderr says.
const { createIdentityProvider } = await import('./identity/index.ts');
const idp = await createIdentityProvider({ port: identity.port, host, accessTokenTtlS: identity.accessTokenTtlS }).catch(
  cannotListen('identity provider', identity.port),
);

const { title, keys } = flavourNamed(flavour);
console.log(`${title} sandbox API: ${sandbox.url}`);
const routes = 'GET /stats, /flavour, POST /faults, /quirks, /clock, /orders/:id, /refills/:id, /sms/:id';
console.log(`admin: ${sandbox.origin}/__sandbox (${routes})`);
console.log(`time scale ${timeScale}, seed ${seed}, api ${api}; keys:`);
for (const key of keys) console.log(`  ${key.key}  ${key.balance} ${key.currency ?? 'USD'}`);
console.log(`identity provider: ${idp.issuer} (client ${idp.clientId}, audience ${idp.audience})`);
console.log(`admin: ${idp.issuer}/__identity (GET /customers, /keys, POST /keys, DELETE /keys/:kid); customers:`);
for (const customer of idp.customers) {
  const limit = customer.spendLimit ? `, spend limit ${customer.spendLimit}` : '';
  console.log(`  ${customer.login} / ${customer.password}  ${customer.subject}${limit}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([sandbox.close(), idp.close()]).then(() => process.exit(0));
  });
}
