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

const { port, host, timeScale, seed, flavour, api } = config();
const sandbox = await createSandbox({ port, host, timeScale, seed, flavour, api }).catch((error: unknown) => {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(`sandbox could not listen on ${host}:${port}: ${reason}`);
  process.exit(1);
});

const { title, keys } = flavourNamed(flavour);
console.log(`${title} sandbox API: ${sandbox.url}`);
const routes = 'GET /stats, /flavour, POST /faults, /quirks, /clock, /orders/:id, /refills/:id, /sms/:id';
console.log(`admin: ${sandbox.origin}/__sandbox (${routes})`);
console.log(`time scale ${timeScale}, seed ${seed}, api ${api}; keys:`);
for (const key of keys) console.log(`  ${key.key}  ${key.balance} ${key.currency ?? 'USD'}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
