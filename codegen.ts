import type { CodegenConfig } from '@graphql-codegen/cli';
import { printSchema } from 'graphql';
import { schema } from './src/schema/index.ts';

/** schema.graphql is printed from the Pothos schema; tests use documents typed against it. */
const config: CodegenConfig = {
  schema: printSchema(schema),
  documents: ['test/operations/**/*.graphql'],
  ignoreNoDocuments: true,
  emitLegacyCommonJSImports: false,
  generates: {
    'schema.graphql': { plugins: ['schema-ast'], config: { sort: false } },
    'test/generated/': {
      preset: 'client',
      // persisted-documents.json: the manifest PERSISTED_DOCUMENTS takes, as a client's build writes it.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        scalars: { Decimal: 'string', DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
