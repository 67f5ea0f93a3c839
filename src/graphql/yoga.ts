import { createYoga, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import { credentialsOf } from '../auth/authenticator.ts';
import type { Config } from '../config.ts';
import { yogaLogging, type Logger } from '../observability/logger.ts';
import { type Runtime } from '../runtime.ts';
import { schema } from '../schema/index.ts';
import { createContext, type OperationContext, type ServerContext } from './context.ts';
import { graphiqlOptions } from './graphiql-tour.ts';
import { renderGraphiQL } from './graphiql.ts';
import { gatewayPlugins } from './plugins/index.ts';

/**
 * CORS_ORIGINS when set. Unset: any origin for a gateway where each caller brings its own supplier
 * key (credentials travel in headers, never cookies, so a page on another origin can spend nothing
 * it was not given); none where the gateway spends its own key or takes customers' tokens, since
 * there a page of any origin could make its visitors' browsers spend the shop's key or act with
 * the tokens it holds: browsers then refuse every cross-origin call.
 */
function corsOf(config: Config): YogaServerOptions<ServerContext, OperationContext>['cors'] {
  if (config.corsOrigins.length > 0) return { origin: config.corsOrigins };
  return config.serverKey !== undefined || config.jwt !== undefined ? false : undefined;
}

/** The GraphQL server: schema, context, plugins, GraphiQL and CORS, from the configuration. */
export function createGatewayYoga(runtime: Runtime, logger: Logger) {
  const { config } = runtime;
  const yoga: YogaServerInstance<ServerContext, OperationContext> = createYoga<ServerContext, OperationContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    multipart: false,
    maxRequestBodySize: config.maxBodyBytes,
    graphiql: config.graphiql && graphiqlOptions(config),
    cors: corsOf(config),
    renderGraphiQL,
    logging: yogaLogging(logger),
    context: (initial) =>
      createContext(
        runtime,
        initial.request ? runtime.auth.identifyRequest(initial.request) : runtime.auth.identify(credentialsOf(initial)),
      ),
    // A group's execution runs the subscription through every plugin (use-subscription-groups.ts).
    plugins: gatewayPlugins(runtime, logger, async (args) => yoga.getEnveloped(args.contextValue as ServerContext).subscribe(args)),
  });
  return yoga;
}
