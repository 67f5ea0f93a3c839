import { ConfigError, loadSandboxConfig, type SandboxConfig } from '../config.ts';
import { createSandbox, DEFAULT_KEYS } from './index.ts';

function config(): SandboxConfig {
  try {
    return loadSandboxConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

const { port, host, timeScale, seed } = config();
const sandbox = await createSandbox({ port, host, timeScale, seed }).catch((error: unknown) => {
  const reason = error instanceof Error ? error.message : String(error);
  console.error(`sandbox could not listen on ${host}:${port}: ${reason}`);
  process.exit(1);
});

console.log(`HstockPlus sandbox API: ${sandbox.url}`);
console.log(`admin: ${sandbox.origin}/__sandbox (GET /stats, POST /faults, /quirks, /clock, /orders/:id, /sms/:id)`);
console.log(`time scale ${timeScale}, seed ${seed}; keys:`);
for (const key of DEFAULT_KEYS) console.log(`  ${key.key}  ${key.balance} ${key.currency ?? 'USD'}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sandbox.close().then(() => process.exit(0));
  });
}
