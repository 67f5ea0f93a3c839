import { createYoga } from 'graphql-yoga';
import { credentialsOf } from '../auth/authenticator.ts';
import { yogaLogging, type Logger } from '../observability/logger.ts';
import { type Runtime } from '../runtime.ts';
import { schema } from '../schema/index.ts';
import { createContext, type OperationContext, type ServerContext } from './context.ts';
import { graphiqlOptions } from './graphiql-tour.ts';
import { renderGraphiQL } from './graphiql.ts';
import { gatewayPlugins } from './plugins/index.ts';

/** The GraphQL server: schema, context, plugins, GraphiQL and CORS, from the configuration. */
export function createGatewayYoga(runtime: Runtime, logger: Logger) {
  const { config } = runtime;
  return createYoga<ServerContext, OperationContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    multipart: false,
    maxRequestBodySize: config.maxBodyBytes,
    graphiql: config.graphiql && graphiqlOptions(config),
    // Any origin by default: credentials travel in headers, never cookies, so a page on another
    // origin can spend nothing it was not given. CORS_ORIGINS narrows it.
    cors: config.corsOrigins.length > 0 ? { origin: config.corsOrigins } : undefined,
    renderGraphiQL,
    logging: yogaLogging(logger),
    context: (initial) =>
      createContext(
        runtime,
        initial.request ? runtime.auth.identifyRequest(initial.request) : runtime.auth.identify(credentialsOf(initial)),
      ),
    plugins: gatewayPlugins(runtime, logger),
  });
}
