import type { CodegenConfig } from '@graphql-codegen/cli';

/** Types from the gateway's printed schema, so a build needs no running gateway. */
const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: ['src/**/*.ts', '!src/gql/**'],
  generates: {
    './src/gql/': {
      preset: 'client',
      config: { scalars: { Decimal: 'string', DateTime: 'string' }, enumsAsTypes: true, useTypeImports: true },
    },
  },
};
export default config;
