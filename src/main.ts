/**
 * `npm start`: reads the configuration, starts the built-in sandbox when no supplier is set, starts
 * the gateway and stops it on a signal. Nothing else: createGateway (gateway.ts) assembles.
 */
import { loadConfigOrExit } from './config.ts';
import { createGateway } from './gateway.ts';
import { stopOnSignals } from './http/signals.ts';
import { createLogger } from './observability/logger.ts';
import { exitOnListenError, startupSummary } from './observability/startup.ts';
import { createSandbox } from './sandbox/index.ts';

/** Closing the state store and the supplier pool after the grace; past it the process exits anyway (signals.ts). */
const SHUTDOWN_MARGIN_MS = 5_000;

async function main(): Promise<void> {
  let config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  let sandbox: Awaited<ReturnType<typeof createSandbox>> | undefined;
  if (!config.upstreamUrl) {
    const names = { host: 'SANDBOX_HOST', port: 'SANDBOX_PORT' };
    sandbox = await createSandbox({ ...config.sandbox }).catch((error: unknown) => exitOnListenError(error, names, config.sandbox));
    config = { ...config, upstreamUrl: sandbox.url, serverKey: 'sandbox-demo-key', allowAnonymous: true };
    logger.info(`HSTOCK_API_URL is not set: using the built-in sandbox at ${sandbox.url} with its demo key`);
  } else {
    if (config.serverKey && config.allowAnonymous)
      logger.warn('GATEWAY_ALLOW_ANONYMOUS=true: anyone who can reach this port can spend the supplier key');
    if (!config.redisUrl)
      logger.warn('REDIS_URL is not set: idempotency records and the ledger live in this process and do not survive a restart');
  }
  const gateway = createGateway(config, logger);
  const url = await gateway.start().catch((error: unknown) => exitOnListenError(error, { host: 'HOST', port: 'PORT' }, config));
  logger.info(startupSummary(config, url, sandbox !== undefined), 'gateway started');

  const stop = async () => {
    await gateway.stop();
    await sandbox?.close();
  };
  stopOnSignals({ stop, unresolvedSpends: () => gateway.runtime.spends.size }, logger, gateway.graceMs + SHUTDOWN_MARGIN_MS);
}

await main();
