/**
 * `npm start`: reads the configuration, starts the built-in sandbox when no supplier is set, starts
 * the gateway and stops it on a signal. Nothing else: createGateway (gateway.ts) assembles.
 */
import { loadConfigOrExit, readJwtConfig } from './config.ts';
import { createGateway } from './gateway.ts';
import { stopOnSignals } from './http/signals.ts';
import { createLogger } from './observability/logger.ts';
import { exitOnListenError, startupSummary } from './observability/startup.ts';
import { createSandbox } from './sandbox/index.ts';

/** Where the reference storefront's dev server serves it: the built-in sandbox lets its pages call. */
const STOREFRONT_ORIGINS = ['http://127.0.0.1:5173', 'http://localhost:5173'];

/** Closing the state store and the supplier pool after the grace; past it the process exits anyway (signals.ts). */
const SHUTDOWN_MARGIN_MS = 5_000;

async function main(): Promise<void> {
  let config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  let sandbox: Awaited<ReturnType<typeof createSandbox>> | undefined;
  let identity: { close(): Promise<void> } | undefined;
  if (!config.upstreamUrl) {
    const names = { host: 'SANDBOX_HOST', port: 'SANDBOX_PORT' };
    sandbox = await createSandbox({ ...config.sandbox }).catch((error: unknown) => exitOnListenError(error, names, config.sandbox));
    // On the sandbox a webhook receiver is most likely on this machine: private addresses are let through unless set.
    const allowPrivate = process.env.WEBHOOK_ALLOW_PRIVATE === undefined ? true : config.webhooks.allowPrivate;
    config = {
      ...config,
      upstreamUrl: sandbox.url,
      serverKey: 'sandbox-demo-key',
      allowAnonymous: true,
      webhooks: { ...config.webhooks, allowPrivate },
    };
    logger.info(`HSTOCK_API_URL is not set: using the built-in sandbox at ${sandbox.url} with its demo key`);
    if (!config.jwt) {
      // The sandbox's identity provider, trusted unless another is configured. Loaded only here:
      // oidc-provider announces on load that it prefers Node.js 22.
      const { createIdentityProvider } = await import('./sandbox/identity/index.ts');
      const { port, accessTokenTtlS } = config.sandbox.identity;
      const names = { host: 'SANDBOX_HOST', port: 'SANDBOX_IDP_PORT' };
      const idp = await createIdentityProvider({ port, host: config.sandbox.host, accessTokenTtlS }).catch((error: unknown) =>
        exitOnListenError(error, names, { host: config.sandbox.host, port }),
      );
      identity = idp;
      config = {
        ...config,
        // As JWT_ISSUER would configure it, with the customers' own spend limits (spend_limit) read.
        jwt: readJwtConfig({ JWT_ISSUER: idp.issuer, JWT_AUDIENCE: idp.audience, JWT_SPEND_LIMIT_CLAIM: 'spend_limit' }),
        corsOrigins: config.corsOrigins.length > 0 ? config.corsOrigins : STOREFRONT_ORIGINS,
      };
      logger.info(`JWT_ISSUER is not set: customers sign in with the sandbox's identity provider at ${idp.issuer}`);
    }
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
    await Promise.all([sandbox?.close(), identity?.close()]);
  };
  stopOnSignals({ stop, unresolvedSpends: () => gateway.runtime.spends.size }, logger, gateway.graceMs + SHUTDOWN_MARGIN_MS);
}

await main();
