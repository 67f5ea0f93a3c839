/**
 * The graphql-transport-ws protocol for one socket, run through Yoga's envelop so that plugins,
 * context, validation and error masking match HTTP exactly.
 *
 * Why not graphql-ws's own server (`useServer`): it holds each subscription as an async loop of
 * its own (the parsed message, three emit closures, the execution's arguments and context, a
 * pending promise) and serialises every event once per subscriber. Subscribers here join a group
 * (subscriptions/groups.ts) and are an entry in this socket's map: an event's text is made once
 * for its group and framed per subscriber. graphql-ws still parses and checks every message
 * (`parseMessage`), and its client is what the tests speak.
 *
 * Not through `yoga.getResultForParams`, as Hive Gateway does: that runs an operation as one call
 * on a Request built for it, which would run the HTTP-only plugins (body limit, CSRF check, the
 * response cache, the access log) for every WebSocket operation and hand back the result with no
 * place between parse and execute. What a socket needs is exactly there: each operation's
 * credentials (connection_init, or `extensions.headers`) checked before it is parsed, the
 * per-connection count taken before a subscription starts, queries run in the socket's line
 * (limits/websocket.ts) and subscriptions at once.
 */
import type { IncomingMessage } from 'node:http';
import {
  getOperationAST,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
} from 'graphql';
import {
  CloseCode,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  MessageType,
  parseMessage,
  stringifyMessage,
  type Message,
  type SubscribePayload,
} from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import WebSocket from 'ws';
import { credentialsFrom, limitKeyOf, presents, type Identity } from '../auth/authenticator.ts';
import type { OperationContext, ServerContext } from '../graphql/context.ts';
import { documentOfOperation } from '../graphql/persisted-documents.ts';
import { clientError, countLimits } from '../graphql/plugins/use-client-errors.ts';
import { joinRequest } from '../graphql/plugins/use-subscription-groups.ts';
import { queryLine, type BoundedSocket } from '../limits/websocket.ts';
import type { Logger } from '../observability/logger.ts';
import type { Runtime } from '../runtime.ts';
import { NO_GROUP, Subscriber, type GroupEvent } from '../subscriptions/groups.ts';

export interface ConnectionDeps {
  yoga: YogaServerInstance<ServerContext, OperationContext>;
  runtime: Runtime;
  logger: Logger;
  /** connection_init: whether the socket is admitted (a refusal may close it with its own code). */
  admit(connection: Connection): Promise<boolean>;
}

/**
 * Subscription documents parsed and found valid, by their text: a later subscriber with the same
 * text joins a group already there (starting or running) without those steps again; the group's
 * existence says its execution passed, or will refuse it with, everything else (the budget).
 */
const subscriptionDocuments = new LRUCache<string, DocumentNode>({ max: 1000 });

/**
 * Sockets written to in this turn of the event loop, corked until its I/O is done: a round of
 * polls changes many orders at once, and a socket watching several of them then gets its frames
 * in one write rather than one system call each.
 */
const corked = new Set<BoundedSocket>();

interface RawSocket {
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
}

/** What a corked socket holds before it is written out anyway: less than any bound on unread bytes. */
const CORKED_BYTES = 16 * 1024;

function corkUntilIdle(socket: BoundedSocket): RawSocket | undefined {
  const raw = (socket as unknown as { _socket?: RawSocket })._socket;
  if (!raw || corked.has(socket)) return raw;
  if (corked.size === 0) setImmediate(uncorkAll);
  corked.add(socket);
  raw.cork();
  return raw;
}

function uncorkAll(): void {
  for (const socket of corked) (socket as unknown as { _socket: RawSocket })._socket.uncork();
  corked.clear();
}

/** An operation being prepared, or a query running: its own object, so a reused id is never taken for it. */
class Pending {}

/** Operations one socket sets up at once; its further messages wait (see #arrive). */
const STARTING_AT_ONCE = 4;

/** An operation parsed, validated and counted, ready to run. */
interface Prepared {
  args: ExecutionArgs & { contextValue: OperationContext };
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
  subscription: boolean;
}

/**
 * A subscription on this socket: its group sends it each event, framed with its id. Entries in
 * `operations` are these, or a Pending of its own while an operation is prepared or a query runs.
 */
class SocketSubscriber extends Subscriber {
  constructor(
    private readonly connection: Connection,
    private readonly id: string,
  ) {
    super();
  }

  deliver(event: GroupEvent): void {
    if (this.connection.operations.get(this.id) !== this) return;
    this.connection.send(nextMessage(this.id, event.text(this.connection.format)));
  }

  finish(): void {
    if (!this.connection.forget(this.id, this)) return;
    this.connection.send(stringifyMessage({ id: this.id, type: MessageType.Complete }));
  }
}

export class Connection {
  /** Operations by id: a subscriber, or its own Pending while an operation is prepared or a query runs. */
  readonly operations = new Map<string, SocketSubscriber | Pending>();
  /** Operations past the per-connection limit: queries until they answer, subscribers while in `operations`. */
  #counted = 0;
  readonly #queries = queryLine();
  #initReceived = false;
  #acknowledged = false;
  #alive = true;
  #known?: Identity;
  /** Operations being set up (parsed, checked, joining their group) or run (a query). */
  #setUp = 0;
  /** Messages read while STARTING_AT_ONCE operations were being set up (see #arrive). */
  #inbox: string[] = [];
  readonly #initTimeout?: NodeJS.Timeout;
  connectionParams?: Record<string, unknown>;
  /** The payload of a group's event as this gateway's sockets send it (the same for every socket). */
  readonly format: (result: ExecutionResult) => string;

  constructor(
    readonly socket: BoundedSocket,
    readonly request: IncomingMessage,
    private readonly deps: ConnectionDeps,
  ) {
    this.format = (result) => JSON.stringify(socketPayload(result, deps.runtime));
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    this.#initTimeout = setTimeout(() => {
      if (!this.#initReceived) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, deps.runtime.config.wsInitTimeoutMs);
    socket.on('pong', () => (this.#alive = true));
    socket.on('error', (error) => {
      deps.logger.warn({ err: error }, 'WebSocket failed');
      socket.terminate();
    });
    socket.on('message', (data: Buffer) => this.#arrive(String(data)));
  }

  send(text: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    const raw = corkUntilIdle(this.socket);
    this.socket.send(text);
    if (raw && raw.writableLength >= CORKED_BYTES) {
      raw.uncork();
      raw.cork();
    }
  }

  /** Pinged every interval; a socket that did not answer the last ping is cut. */
  keepAlive(): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    // Not read while it sets up operations (#arrive): its pong waits unread too.
    if (this.socket.isPaused) return void (this.#alive = true);
    if (!this.#alive) return void this.socket.terminate();
    this.#alive = false;
    this.socket.ping();
  }

  /** However the socket goes, every subscription on it leaves its group. */
  closed(): void {
    clearTimeout(this.#initTimeout);
    this.#inbox = [];
    const entries = [...this.operations.values()];
    this.operations.clear();
    for (const entry of entries) if (entry instanceof SocketSubscriber) entry.leave();
  }

  /** Removes a subscriber's entry if it is still there; whether it was. */
  forget(id: string, subscriber: SocketSubscriber): boolean {
    if (this.operations.get(id) !== subscriber) return false;
    this.operations.delete(id);
    this.#counted -= 1;
    return true;
  }

  async #receive(data: string): Promise<void> {
    let message: Message;
    try {
      message = parseMessage(data);
    } catch {
      return this.socket.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        if (this.#initReceived) return this.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        this.#initReceived = true;
        if (message.payload && typeof message.payload === 'object') this.connectionParams = message.payload;
        if (!(await this.deps.admit(this))) return this.socket.close(CloseCode.Forbidden, 'Forbidden');
        this.#acknowledged = true;
        return this.send(stringifyMessage({ type: MessageType.ConnectionAck }));
      case MessageType.Ping:
        return this.send(
          stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }),
        );
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        if (!this.#acknowledged) return this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
        if (this.operations.has(message.id))
          return this.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${message.id} already exists`);
        return this.#subscribe(message.id, message.payload);
      case MessageType.Complete: {
        const entry = this.operations.get(message.id);
        if (!(entry instanceof SocketSubscriber)) return void this.operations.delete(message.id);
        this.forget(message.id, entry);
        return entry.leave();
      }
      default:
        return this.socket.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  async #operate(id: string, payload: SubscribePayload, slot: Pending): Promise<void> {
    // A socket whose client stopped reading runs nothing more.
    if (this.socket.notReading()) return this.#refuse(id, [closing()], slot);
    if (await this.#joinRunning(id, payload, slot)) return;
    const prepared = await this.#prepare(payload);
    if (Array.isArray(prepared)) return this.#refuse(id, prepared, slot);
    // A query waits in the socket's line, no longer set up: the socket reads on meanwhile.
    if (!prepared.subscription) return void this.#query(id, prepared, slot).catch((error: unknown) => this.#failed(error));
    if (this.operations.get(id) !== slot) return void (this.#counted -= 1);
    const subscriber = new SocketSubscriber(this, id);
    this.operations.set(id, subscriber);
    prepared.args.contextValue.subscriber = subscriber;
    const result = await prepared.subscribe(prepared.args);
    if (result === subscriber) {
      // The client completed it, or the socket closed, while it was joining its group.
      if (this.operations.get(id) !== subscriber) subscriber.leave();
      return;
    }
    if (!this.forget(id, subscriber)) return;
    this.#answer(id, result as ExecutionResult);
  }

  /**
   * Operations being set up at once on this socket are bounded: past STARTING_AT_ONCE the socket
   * is not read until one is set up, and messages already read wait here, in order, as text. A
   * burst of subscriptions (thousands of clients resubscribing after a restart) then holds a few of
   * them half-made per socket, whatever they wait for; the rest wait in the network's buffers.
   */
  #arrive(text: string): void {
    if (this.#inbox.length === 0 && this.#setUp < STARTING_AT_ONCE) return this.#handle(text);
    this.#inbox.push(text);
    this.socket.pause();
  }

  #handle(text: string): void {
    this.#receive(text).catch((error: unknown) => this.#failed(error));
  }

  #failed(error: unknown): void {
    this.deps.logger.error({ err: error }, 'WebSocket message failed');
    this.socket.close(CloseCode.InternalServerError, 'Internal server error');
  }

  async #starting(operate: () => Promise<void>): Promise<void> {
    this.#setUp += 1;
    try {
      await operate();
    } finally {
      this.#setUp -= 1;
      while (this.#inbox.length > 0 && this.#setUp < STARTING_AT_ONCE) this.#handle(this.#inbox.shift()!);
      // A closing socket is read again too: its client's answer to the close ends it.
      if (this.#inbox.length === 0) this.socket.resume();
    }
  }

  #subscribe(id: string, payload: SubscribePayload): Promise<void> {
    const slot = new Pending();
    this.operations.set(id, slot);
    return this.#starting(() => this.#operate(id, payload, slot));
  }

  /** An operation refused before it ran: an `error` message, as graphql-ws sends one. */
  #refuse(id: string, errors: readonly GraphQLError[], slot: Pending): void {
    if (this.operations.get(id) !== slot) return;
    this.operations.delete(id);
    countLimits(errors, this.deps.runtime.metrics);
    this.send(stringifyMessage({ id, type: MessageType.Error, payload: errors.map(forSocket) }));
  }

  /**
   * A subscription to a group that runs already, on a socket whose credentials came with
   * connection_init. What the whole way would find is known from the group's first subscriber:
   * the same text was parsed, validated and found within the budget, for the same caller, scopes
   * and variables. What is this subscriber's own is checked as the whole way checks it: its
   * credentials now (a token not expired, an address not failing), the per-connection count, the
   * starts per second and the places under the tenant's limit. Anything else (no such group,
   * credentials per operation, a token to verify) goes the whole way; whether it joined.
   */
  async #joinRunning(id: string, payload: SubscribePayload, slot: Pending): Promise<boolean> {
    const { runtime } = this.deps;
    const { config } = runtime;
    const text = documentOfOperation(payload, config.persistedDocuments, config.persistedDocumentsOnly);
    const document = typeof text === 'string' ? subscriptionDocuments.get(text) : undefined;
    // The operation name must pick the subscription out, as the whole way checks.
    if (!document || getOperationAST(document, payload.operationName)?.operation !== 'subscription') return false;
    const identity = this.#identity();
    if (!identity?.ok || this.#counted >= config.subscriptionsPerConnection || this.operations.get(id) !== slot) return false;
    if (identity.customer && identity.customer.expiresAt <= Date.now()) return false;
    if (runtime.authFailures.wait(identity, this.request) > 0) return false;
    const subscriber = new SocketSubscriber(this, id);
    this.#counted += 1;
    this.operations.set(id, subscriber);
    const request = joinRequest(runtime, document, payload.operationName, payload.variables, identity, limitKeyOf(identity));
    const joined = await runtime.groups.join(request, subscriber);
    if (joined === NO_GROUP) {
      if (this.forget(id, subscriber)) this.operations.set(id, slot);
      return this.operations.get(id) !== slot;
    }
    if (joined === undefined) {
      if (this.operations.get(id) !== subscriber) subscriber.leave();
      return true;
    }
    if (this.forget(id, subscriber)) this.#answer(id, joined);
    return true;
  }

  /**
   * The caller of connection_init's credentials, worked out once per socket (a customer's token is
   * looked at each time, for its expiry); none where they are not verified yet or none were sent.
   */
  #identity(): Identity | undefined {
    const credentials = credentialsFrom(this.connectionParams);
    if (!presents(credentials) || this.deps.runtime.auth.prepare(credentials)) return undefined;
    if (this.#known?.ok && !this.#known.customer) return this.#known;
    return (this.#known = this.deps.runtime.auth.identify(credentials));
  }

  /** A query or mutation, in the socket's line, unless the socket closed while it waited. */
  async #query(id: string, { args, execute }: Prepared, slot: Pending): Promise<void> {
    try {
      const result = await this.#queries.run(async () => (this.socket.notReading() ? { errors: [closing()] } : execute(args)));
      if (this.operations.get(id) !== slot) return;
      this.operations.delete(id);
      this.#answer(id, result as ExecutionResult);
    } finally {
      this.#counted -= 1;
    }
  }

  #answer(id: string, result: ExecutionResult): void {
    this.send(nextMessage(id, this.format(result)));
    this.send(stringifyMessage({ id, type: MessageType.Complete }));
  }

  /**
   * Credentials (connection_init's, or the operation's `extensions.headers`), the document rule
   * (documentOfOperation), envelop's parse, validate and context, then the per-connection count.
   */
  async #prepare(payload: SubscribePayload): Promise<Prepared | GraphQLError[]> {
    const { yoga, runtime } = this.deps;
    const { config } = runtime;
    const connectionParams = presents(credentialsFrom(this.connectionParams))
      ? this.connectionParams
      : (payload.extensions?.headers as Record<string, unknown> | undefined);
    await runtime.auth.prepare(credentialsFrom(connectionParams));
    const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
      connectionParams,
      req: this.request,
      socket: this.socket,
      params: payload,
    } as ServerContext);
    const text = documentOfOperation(payload, config.persistedDocuments, config.persistedDocumentsOnly);
    if (text instanceof GraphQLError) return [text];
    let document: ReturnType<typeof parse>;
    try {
      document = parse(text);
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    const errors = validate(schema, document);
    if (errors.length > 0) return errors;
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) {
      return [
        new GraphQLError('Unable to identify the operation: name it with operationName.', { extensions: { code: 'BAD_USER_INPUT' } }),
      ];
    }
    if (operation.operation === 'subscription') subscriptionDocuments.set(text, document);
    const contextValue = (await contextFactory()) as OperationContext;
    // From here to the count nothing awaits, so it cannot be raced.
    if (this.#counted >= config.subscriptionsPerConnection) {
      return [
        new GraphQLError(`At most ${config.subscriptionsPerConnection} subscriptions per connection are allowed.`, {
          extensions: { code: 'RATE_LIMITED', reason: 'SUBSCRIPTIONS_PER_CONNECTION' },
        }),
      ];
    }
    this.#counted += 1;
    return {
      args: { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue },
      execute,
      subscribe,
      subscription: operation.operation === 'subscription',
    };
  }
}

/** The same error a client gets over HTTP, less the HTTP hints (status, headers) that mean nothing here. */
function forSocket(error: GraphQLError): GraphQLFormattedError {
  const formatted = clientError(error).toJSON();
  const { http: _http, ...extensions } = formatted.extensions ?? {};
  return { ...formatted, extensions };
}

/** A result as a `next` message carries it: errors formatted for sockets, and counted once. */
function socketPayload(result: ExecutionResult, runtime: Runtime): unknown {
  if (!result.errors) return result;
  countLimits(result.errors, runtime.metrics);
  return { ...result, errors: result.errors.map(forSocket) };
}

const closing = () => new GraphQLError('The connection is closing.');

/** A `next` message around a payload already serialised: the text a group made once for all its sockets. */
const nextMessage = (id: string, payload: string) => `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;
