/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured: a server span per HTTP request
 * (under the caller's `traceparent`), one per GraphQL operation, a client span per supplier call,
 * and spans for a poll tick and a placement. This file speaks only the API: with no provider
 * registered every span is its no-op, and the SDK (tracing-sdk.ts) is never loaded.
 *
 * No span carries a key, a token, a tenant, a request body or GraphQL variables.
 */
import type { RequestListener } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type SpanOptions } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { TracesConfig } from '../config.ts';
import type { Logger } from './logger.ts';

/** The gateway's own attributes; the others are OpenTelemetry's semantic conventions. */
const ATTRIBUTES = {
  action: 'hstock.action',
  attempts: 'hstock.attempts',
  outcome: 'hstock.outcome',
  pollRole: 'hstock.poll.role',
  mutation: 'hstock.placement.mutation',
} as const;

/**
 * Looked up per span, not kept: a tracer taken before a provider is registered stays bound to the
 * first one it finds, and a gateway stopped and created again registers a new one.
 */
const tracer = () => trace.getTracer('hstock-gateway');

type Registered = { flush(): Promise<void>; shutdown(): Promise<void> };

/** Traces for this process: start() loads and registers the SDK, shutdown() sends what is left and unregisters it. */
export class Tracing {
  #registered?: Promise<Registered>;

  constructor(
    private readonly config: TracesConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#registered ??= import('./tracing-sdk.ts').then(({ registerTracing }) => registerTracing(this.config, this.logger));
    await this.#registered;
  }

  /** Sends the spans that have ended and waits for their batch. */
  async flush(): Promise<void> {
    await (await this.#registered)?.flush();
  }

  /** Sends the last spans; a collector that cannot be reached delays it by the export timeout at most, and never fails it. */
  async shutdown(): Promise<void> {
    const registered = this.#registered;
    this.#registered = undefined;
    await (
      await registered
    )
      ?.shutdown()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'traces: the last spans could not be sent'));
  }
}

/** A failure's name in `error.type`: the gateway's error code, or the error's class. */
function failed(span: Span, error: unknown): void {
  const code = (error as { code?: unknown }).code;
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown');
}

/** Runs `work` in a new active span that ends with it; a throw marks it failed (never with the message). */
function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The server span of each HTTP request `handler` answers, cached answers sent before Yoga
 * included, under the caller's `traceparent` when it sends one. Only the path is recorded: a GET's
 * query string holds the document and its variables.
 */
export function tracedRequests(handler: RequestListener): RequestListener {
  return (req, res) => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const route = path === '/graphql' ? path : undefined;
    const caller = propagation.extract(ROOT_CONTEXT, req.headers);
    const span = tracer().startSpan(
      route ? `${method} ${route}` : method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path, ...(route && { 'http.route': route }) } },
      caller,
    );
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(caller, span), () => handler(req, res));
  };
}

/** An operation's span, named `query Orders` as OpenTelemetry's GraphQL conventions name it. */
function operationSpan<T>(document: DocumentNode, operationName: string | null | undefined, run: () => T | Promise<T>): Promise<T> {
  const operation = getOperationAST(document, operationName);
  const type = operation?.operation ?? 'query';
  const name = operation?.name?.value;
  const attributes = { 'graphql.operation.type': type, ...(name && { 'graphql.operation.name': name }) };
  return inSpan(name ? `${type} ${name}` : type, { attributes }, async (span) => {
    const result = await run();
    if ((result as { errors?: unknown[] }).errors?.length) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  });
}

/**
 * A span per GraphQL operation, around its execution, so that its supplier calls are its children.
 * A subscription's covers its subscribe phase only: its life may be days, and each poll is a
 * trace of its own (pollTickSpan).
 */
export function useTracing(): Plugin {
  return {
    onExecute: ({ executeFn, setExecuteFn }) =>
      setExecuteFn((args) => operationSpan(args.document, args.operationName, () => executeFn(args))),
    onSubscribe: ({ subscribeFn, setSubscribeFn }) =>
      setSubscribeFn((args) => operationSpan(args.document, args.operationName, () => subscribeFn(args))),
  };
}

/**
 * A supplier call's client span, from before it waits in its key's line to its last attempt;
 * each attempt's HTTP request is a child span, made by the undici instrumentation.
 */
export function supplierCallSpan(action: string) {
  const span = tracer().startSpan(`hstock ${action}`, { kind: SpanKind.CLIENT, attributes: { [ATTRIBUTES.action]: action } });
  const within = trace.setSpan(context.active(), span);
  return {
    /** `run` under this span wherever it is called from: a call that waited in line is started by another call's end. */
    bind: <T>(run: () => T): (() => T) => context.bind(within, run),
    end(attempts: number, outcome: string): void {
      span.setAttributes({ [ATTRIBUTES.attempts]: attempts, [ATTRIBUTES.outcome]: outcome });
      if (outcome !== 'ok') {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute('error.type', outcome);
      }
      span.end();
    },
  };
}

/**
 * One poll of a loop, a trace of its own: a loop outlives the subscription that started it and
 * serves every subscriber of its order alike.
 */
export function pollTickSpan<T>(role: string, poll: () => Promise<T>): Promise<T> {
  return inSpan('poll tick', { root: true, attributes: { [ATTRIBUTES.pollRole]: role } }, poll);
}

/** A placement from its idempotency claim to its recorded outcome. */
export function placementSpan<T>(mutation: string, work: () => Promise<T>): Promise<T> {
  return inSpan(`placement ${mutation}`, { attributes: { [ATTRIBUTES.mutation]: mutation } }, work);
}
