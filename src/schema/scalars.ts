import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';

const DECIMAL = /^-?\d+(\.\d+)?$/;

function decimal(value: unknown): string {
  if (typeof value === 'string' && DECIMAL.test(value)) return value;
  throw new GraphQLError(`Decimal must be a string such as "0.50"; got ${JSON.stringify(value)}.`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

builder.scalarType('Decimal', {
  description: 'An exact decimal number, serialized as a string such as "0.50". Money is never a Float.',
  serialize: decimal,
  parseValue: decimal,
  parseLiteral: (ast) => decimal(ast.kind === Kind.STRING ? ast.value : undefined),
});

function dateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (date instanceof Date && !Number.isNaN(date.getTime())) return date;
  throw new GraphQLError(`DateTime must be an ISO-8601 string; got ${JSON.stringify(value)}.`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 date-time string.',
  serialize: (value) => dateTime(value).toISOString(),
  parseValue: dateTime,
  parseLiteral: (ast) => dateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});
