/**
 * Environment -> typed, validated configuration. Every setting has a default; a bad value stops
 * start-up with one line naming the variable (see ConfigError), never a stack trace.
 */
import { loadPersistedDocuments, type PersistedDocuments } from './graphql/persisted-documents.ts';
import { loadSandboxConfig, type SandboxConfig } from './sandbox/config.ts';
import { ConfigError, fail, integer, PORT_MAX, positiveNumber, read, type Env } from './settings.ts';

export interface CacheTtls {
  categories: number;
  services: number;
  inventory: number;
  smsCountries: number;
  smsProjects: number;
}

/** OpenTelemetry traces, on when an OTLP endpoint is set. */
export interface TracesConfig {
  /** Where spans are sent: OTLP over HTTP, JSON encoded. */
  url: string;
  /** The `service.name` of every span. */
  serviceName: string;
}

/** Signed webhooks (webhooks/). */
export interface WebhookConfig {
  /** Private, loopback and link-local targets allowed: tests and the sandbox. */
  allowPrivate: boolean;
  /** An attempt without a 2xx within this long failed. */
  timeoutMs: number;
  /** A factor on the retry schedule's delays (tests make it tiny). */
  retryScale: number;
  /** Attempts in flight at once on one instance. */
  concurrency: number;
}

/** Customers signed in with the reseller's identity provider (auth/jwt.ts). */
export interface JwtConfig {
  /** The `iss` tokens must carry; OpenID Connect discovery finds the key set from it unless `jwksUrl` is set. */
  issuer: string | undefined;
  jwksUrl: string | undefined;
  audience: string;
  algorithms: string[];
  /** The claim that holds the scopes (space-separated or an array). */
  scopesClaim: string;
  /** The numeric claim of a customer's own daily spend cap; unset: none is read. */
  spendLimitClaim: string | undefined;
  clockToleranceS: number;
  /** A key id the key set does not know makes it fetched again at most this often. */
  jwksCooldownMs: number;
  /** The key set is fetched again after this long, whatever the tokens say (a retired key stops verifying). */
  jwksMaxAgeMs: number;
}

export interface Config {
  port: number;
  host: string;
  /** Unset: the gateway runs on an in-process sandbox. */
  upstreamUrl: string | undefined;
  /** Server-key mode when set; pass-through mode (each caller brings a key) when unset. */
  serverKey: string | undefined;
  /** `name:secret` entries or bare secrets; see auth.ts. */
  gatewayTokens: string[];
  /** Tokens of callers that read every order of the key (a reseller's back office). */
  adminTokens: string[];
  allowAnonymous: boolean;
  /** Unset: bearer tokens that are JWTs are not taken. */
  jwt: JwtConfig | undefined;
  /** Callers with no credentials may read the catalogue (rates only with `account:read`). */
  publicCatalogue: boolean;
  /** What one JWT caller may spend a day, in the account's currency; unset: no cap. */
  spendLimitPerDay: string | undefined;
  /** Unset: idempotency records and the ledger live in this process. */
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  /** How long one Redis command may take before it counts as failed (and Redis as slow). */
  redisCommandTimeoutMs: number;
  ledgerRetentionDays: number;
  upstreamTimeoutMs: number;
  upstreamConnections: number;
  /** Supplier calls of one key at once, and waiting; the circuit breaker of the supplier's origin. */
  upstreamGuard: { concurrencyPerKey: number; queuePerKey: number; circuitFailures: number; circuitHalfOpenMs: number };
  maxUpstreamCallsPerOperation: number;
  /** Requests per second of one tenant, and the burst it may spend at once. */
  rateLimit: { perSecond: number; burst: number };
  /** Requests with failing credentials one client address may make per minute. */
  authFailuresPerMinute: number;
  /** Proxies in front of the gateway whose X-Forwarded-For is believed (0: none). */
  trustProxy: number;
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  /** Serve /metrics (on PORT, or on METRICS_PORT when set). */
  metrics: boolean;
  metricsPort: number | undefined;
  /** Unset: no traces, and none of the OpenTelemetry SDK is loaded. */
  traces: TracesConfig | undefined;
  /** Readiness probe of the supplier; 0: none (readiness from client calls alone). */
  readyProbeMs: number;
  /**
   * Browser origins allowed by CORS. Empty: any origin, unless JWT callers are configured or the
   * gateway spends its own key, where a page of any origin could spend it: then none.
   */
  corsOrigins: string[];
  /** Persisted documents by hash, from the manifests PERSISTED_DOCUMENTS names. */
  persistedDocuments: PersistedDocuments;
  /** Only persisted documents run (trusted documents). */
  persistedDocumentsOnly: boolean;
  graphiql: boolean;
  introspection: boolean;
  orderPollMs: number;
  orderPollMaxMs: number;
  smsPollMs: number;
  pollFailureLimitMs: number;
  /** Server-key mode: every placed order, SMS order and refill is followed to its end (events/follower.ts). */
  followOrders: boolean;
  /** The follower's round, and the interval each followed id backs off to while it does not change. */
  followPollMs: number;
  followPollMaxMs: number;
  subscriptionsPerConnection: number;
  subscriptionsPerTenant: number;
  /** Subscriptions one tenant may start per second (each id of orderUpdates counts), and at once. */
  subscriptionStarts: { perSecond: number; burst: number };
  /** How long a WebSocket may take to send connection_init. */
  wsInitTimeoutMs: number;
  /** WebSocket connections without credentials (or before connection_init) one client address may hold. */
  wsUnauthenticatedPerAddress: number;
  /** Bytes that may wait to be sent to one WebSocket before its client is taken not to read. */
  wsMaxPendingBytes: number;
  cacheTtlSeconds: CacheTtls;
  cacheStaleMaxSeconds: number;
  cacheMaxEntries: number;
  cacheMaxBytes: number;
  /** Whole answers the response cache holds, in bytes, and the largest one it caches. */
  responseCache: { maxBytes: number; maxAnswerBytes: number };
  idempotencyTtlSeconds: number;
  idempotencyMaxEntries: number;
  maxBodyBytes: number;
  webhooks: WebhookConfig;
  logLevel: LogLevel;
  sandbox: SandboxConfig;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  return fail(name, 'true or false', raw);
}

function httpUrl(env: Env, name: string, example = 'https://hstockplus.com/api/v2'): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(name, `an http(s) URL such as ${example}`, raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(name, 'an http(s) URL', raw);
  if (url.username || url.password) fail(name, 'a URL without credentials', '<redacted>', true);
  return url.toString();
}

function redisUrl(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  let protocol: string;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    return fail(name, 'a redis:// or rediss:// URL', '<redacted>', true);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') fail(name, 'a redis:// or rediss:// URL', '<redacted>', true);
  return raw;
}

/**
 * The OTLP/HTTP traces URL as OpenTelemetry's SDKs work it out: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * as it is, or OTEL_EXPORTER_OTLP_ENDPOINT with `v1/traces` appended. Neither set: no traces.
 */
function traces(env: Env): TracesConfig | undefined {
  const example = 'http://127.0.0.1:4318';
  const endpoint = httpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', example);
  const url =
    httpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', `${example}/v1/traces`) ?? (endpoint && `${endpoint.replace(/\/?$/, '/')}v1/traces`);
  return url ? { url, serviceName: read(env, 'OTEL_SERVICE_NAME') ?? 'hstock-gateway' } : undefined;
}

function persistedDocuments(env: Env, name: string): PersistedDocuments {
  try {
    return loadPersistedDocuments(list(env, name));
  } catch (error) {
    throw new ConfigError(`${name} must name the client preset's persisted-documents.json files: ${(error as Error).message}`);
  }
}

function list(env: Env, name: string): string[] {
  return (read(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Never `none`, never an HMAC algorithm: a public key set verifies asymmetric signatures only. */
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** JWT_* settings; undefined unless JWT_ISSUER or JWT_JWKS_URL turns customers' tokens on. */
export function readJwtConfig(env: Env): JwtConfig | undefined {
  const issuer = read(env, 'JWT_ISSUER');
  const jwksUrl = httpUrl(env, 'JWT_JWKS_URL', 'https://id.example.com/.well-known/jwks.json');
  if (issuer === undefined && jwksUrl === undefined) {
    for (const name of ['JWT_AUDIENCE', 'JWT_ALGORITHMS', 'JWT_SCOPES_CLAIM', 'JWT_SPEND_LIMIT_CLAIM']) {
      if (read(env, name) !== undefined)
        throw new ConfigError(`${name} is set but JWT_ISSUER is not: set JWT_ISSUER (or JWT_JWKS_URL) to take JWT callers`);
    }
    return undefined;
  }
  if (issuer !== undefined) httpUrl(env, 'JWT_ISSUER', 'https://id.example.com');
  const audience = read(env, 'JWT_AUDIENCE');
  if (audience === undefined)
    throw new ConfigError('JWT_AUDIENCE must be set with JWT_ISSUER or JWT_JWKS_URL (the audience tokens for this gateway carry)');
  const algorithms = list(env, 'JWT_ALGORITHMS');
  for (const algorithm of algorithms) {
    if (!JWT_ALGORITHMS.includes(algorithm))
      fail('JWT_ALGORITHMS', `a list of ${JWT_ALGORITHMS.join(', ')} (never none or HS*)`, algorithm);
  }
  return {
    issuer,
    jwksUrl,
    audience,
    algorithms: algorithms.length > 0 ? algorithms : ['RS256', 'ES256', 'EdDSA'],
    scopesClaim: read(env, 'JWT_SCOPES_CLAIM') ?? 'scope',
    spendLimitClaim: read(env, 'JWT_SPEND_LIMIT_CLAIM'),
    clockToleranceS: integer(env, 'JWT_CLOCK_TOLERANCE_S', 30, 0, 300),
    jwksCooldownMs: integer(env, 'JWT_JWKS_COOLDOWN_S', 30, 0, 3600) * 1000,
    jwksMaxAgeMs: integer(env, 'JWT_JWKS_MAX_AGE_S', 600, 1, 86400) * 1000,
  };
}

function decimal(env: Env, name: string): string | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  // Spends are counted in units of 10^-10, exact up to 900,000 (2^53 units) in Redis's Lua.
  if (!/^\d{1,6}(\.\d{1,10})?$/.test(raw) || Number(raw) > 900_000) fail(name, 'a decimal amount up to 900000, such as 25 or 14.50', raw);
  return raw;
}

function logLevel(env: Env): LogLevel {
  const raw = read(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) fail('LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')}`, raw);
  return raw as LogLevel;
}

/** For start-up: the configuration, or one line naming the bad variable and exit code 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const serverKey = read(env, 'HSTOCK_API_KEY');
  const upstreamUrl = httpUrl(env, 'HSTOCK_API_URL');
  const orderPollMs = integer(env, 'ORDER_POLL_MS', 5000, 10);
  const upstreamConnections = integer(env, 'HSTOCK_MAX_CONNECTIONS', 32, 1, 1024);
  const config: Config = {
    port: integer(env, 'PORT', 4000, 0, PORT_MAX),
    host: read(env, 'HOST') ?? '127.0.0.1',
    upstreamUrl,
    serverKey,
    gatewayTokens: list(env, 'GATEWAY_TOKENS'),
    adminTokens: list(env, 'GATEWAY_ADMIN_TOKENS'),
    allowAnonymous: boolean(env, 'GATEWAY_ALLOW_ANONYMOUS', false),
    jwt: readJwtConfig(env),
    publicCatalogue: boolean(env, 'PUBLIC_CATALOGUE', false),
    spendLimitPerDay: decimal(env, 'SPEND_LIMIT_PER_DAY'),
    redisUrl: redisUrl(env, 'REDIS_URL'),
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'hstock:',
    redisCommandTimeoutMs: integer(env, 'REDIS_COMMAND_TIMEOUT_MS', 2000, 10),
    ledgerRetentionDays: integer(env, 'LEDGER_RETENTION_DAYS', 90, 1, 3650),
    upstreamTimeoutMs: integer(env, 'HSTOCK_TIMEOUT_MS', 10000, 1),
    upstreamConnections,
    upstreamGuard: {
      // One tenant may hold half the pool in pass-through mode; in server-key mode there is one tenant.
      concurrencyPerKey: integer(
        env,
        'HSTOCK_CONCURRENCY_PER_TENANT',
        serverKey ? upstreamConnections : Math.max(1, Math.floor(upstreamConnections / 2)),
        1,
        1024,
      ),
      queuePerKey: integer(env, 'HSTOCK_QUEUE_PER_TENANT', 64, 0, 100_000),
      circuitFailures: integer(env, 'HSTOCK_CIRCUIT_FAILURES', 5, 1, 1000),
      circuitHalfOpenMs: integer(env, 'HSTOCK_CIRCUIT_HALF_OPEN_MS', 10_000, 10),
    },
    maxUpstreamCallsPerOperation: integer(env, 'MAX_UPSTREAM_CALLS_PER_OPERATION', 1000, 1),
    rateLimit: {
      perSecond: positiveNumber(env, 'RATE_LIMIT_PER_SECOND', 50),
      burst: integer(env, 'RATE_LIMIT_BURST', 200, 1),
    },
    authFailuresPerMinute: integer(env, 'AUTH_FAILURES_PER_MINUTE', 30, 1),
    trustProxy: integer(env, 'TRUST_PROXY', 0, 0, 10),
    httpHeadersTimeoutMs: integer(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100),
    httpRequestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100),
    metrics: boolean(env, 'METRICS', true),
    metricsPort: read(env, 'METRICS_PORT') === undefined ? undefined : integer(env, 'METRICS_PORT', 0, 0, PORT_MAX),
    traces: traces(env),
    readyProbeMs: integer(env, 'READY_PROBE_MS', 5000, 0),
    corsOrigins: list(env, 'CORS_ORIGINS'),
    persistedDocuments: persistedDocuments(env, 'PERSISTED_DOCUMENTS'),
    persistedDocumentsOnly: boolean(env, 'PERSISTED_DOCUMENTS_ONLY', false),
    introspection: boolean(env, 'INTROSPECTION', true),
    graphiql: boolean(env, 'GRAPHIQL', boolean(env, 'INTROSPECTION', true)),
    orderPollMs,
    orderPollMaxMs: integer(env, 'ORDER_POLL_MAX_MS', 60000, 10),
    smsPollMs: integer(env, 'SMS_POLL_MS', 3000, 10),
    pollFailureLimitMs: integer(env, 'POLL_FAILURE_LIMIT_MS', 120000, 0),
    followOrders: boolean(env, 'FOLLOW_ORDERS', true),
    followPollMs: integer(env, 'FOLLOW_POLL_MS', 5000, 10),
    followPollMaxMs: integer(env, 'FOLLOW_POLL_MAX_MS', 60000, 10),
    subscriptionsPerConnection: integer(env, 'SUBSCRIPTIONS_PER_CONNECTION', 200, 1),
    subscriptionsPerTenant: integer(env, 'SUBSCRIPTIONS_PER_TENANT', 50000, 1),
    subscriptionStarts: {
      perSecond: positiveNumber(env, 'SUBSCRIPTION_STARTS_PER_SECOND', 50),
      // orderUpdates takes up to 100 ids at once, each one start: a smaller burst could never let it through.
      burst: integer(env, 'SUBSCRIPTION_STARTS_BURST', 200, 100),
    },
    wsInitTimeoutMs: integer(env, 'WS_INIT_TIMEOUT_MS', 3000, 100),
    wsUnauthenticatedPerAddress: integer(env, 'WS_UNAUTHENTICATED_PER_ADDRESS', 50, 1),
    wsMaxPendingBytes: integer(env, 'WS_MAX_PENDING_BYTES', 8 * 1024 * 1024, 64 * 1024),
    cacheTtlSeconds: {
      categories: integer(env, 'CACHE_TTL_CATEGORIES_S', 300, 0),
      services: integer(env, 'CACHE_TTL_SERVICES_S', 60, 0),
      inventory: integer(env, 'CACHE_TTL_INVENTORY_S', 5, 0),
      smsCountries: integer(env, 'CACHE_TTL_SMS_COUNTRIES_S', 600, 0),
      smsProjects: integer(env, 'CACHE_TTL_SMS_PROJECTS_S', 300, 0),
    },
    cacheStaleMaxSeconds: integer(env, 'CACHE_STALE_MAX_S', 3600, 0),
    cacheMaxEntries: integer(env, 'CACHE_MAX_ENTRIES', 10000, 1),
    cacheMaxBytes: integer(env, 'CACHE_MAX_BYTES', 64 * 1024 * 1024, 1024),
    responseCache: {
      maxBytes: integer(env, 'RESPONSE_CACHE_MAX_BYTES', 64 * 1024 * 1024, 0),
      maxAnswerBytes: integer(env, 'RESPONSE_CACHE_MAX_ANSWER_BYTES', 1024 * 1024, 0),
    },
    idempotencyTtlSeconds: integer(env, 'IDEMPOTENCY_TTL_S', 86400, 1),
    idempotencyMaxEntries: integer(env, 'IDEMPOTENCY_MAX_ENTRIES', 100000, 1),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 100 * 1024, 1024),
    webhooks: {
      allowPrivate: boolean(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 15_000, 10, 60_000),
      retryScale: positiveNumber(env, 'WEBHOOK_RETRY_SCALE', 1),
      concurrency: integer(env, 'WEBHOOK_CONCURRENCY', 32, 1, 1024),
    },
    logLevel: logLevel(env),
    sandbox: loadSandboxConfig(env),
  };
  if (config.graphiql && !config.introspection)
    fail('GRAPHIQL', 'false when INTROSPECTION is false (GraphiQL reads the schema by introspection)', 'true');
  if (config.persistedDocumentsOnly && config.persistedDocuments.size === 0) {
    fail('PERSISTED_DOCUMENTS_ONLY', 'false when PERSISTED_DOCUMENTS names no documents', 'true');
  }
  if (config.orderPollMaxMs < orderPollMs) {
    fail('ORDER_POLL_MAX_MS', `at least ORDER_POLL_MS (${orderPollMs})`, String(config.orderPollMaxMs));
  }
  if (config.followPollMaxMs < config.followPollMs) {
    fail('FOLLOW_POLL_MAX_MS', `at least FOLLOW_POLL_MS (${config.followPollMs})`, String(config.followPollMaxMs));
  }
  if (
    serverKey &&
    config.gatewayTokens.length + config.adminTokens.length === 0 &&
    !config.allowAnonymous &&
    !config.jwt &&
    !config.publicCatalogue
  ) {
    throw new ConfigError(
      'GATEWAY_TOKENS must list at least one token when HSTOCK_API_KEY is set ' +
        '(or set JWT_ISSUER for signed-in customers, or GATEWAY_ALLOW_ANONYMOUS=true to let anyone who reaches the port spend the key)',
    );
  }
  if (config.publicCatalogue && !serverKey)
    fail('PUBLIC_CATALOGUE', 'false unless HSTOCK_API_KEY is set (the catalogue is read with the gateway’s key)', 'true');
  return config;
}
