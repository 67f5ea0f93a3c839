/**
 * The schema explains itself: every type, field, argument, input field and enum value the gateway
 * serves has a description, read the way GraphiQL's docs explorer reads it (by introspection).
 */
import { getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';

let h: Harness;
let schema: IntrospectionQuery['__schema'];

beforeAll(async () => {
  h = await startHarness();
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: getIntrospectionQuery({ inputValueDeprecation: true }) }),
  });
  schema = ((await response.json()) as { data: IntrospectionQuery }).data.__schema;
});
afterAll(() => h.close());

/** Every schema element without a description, named as `Type`, `Type.field`, `Type.field(arg)` or `Enum.VALUE`. */
function undescribed(types: IntrospectionQuery['__schema']['types']): string[] {
  const missing: string[] = [];
  const blank = (description: string | null | undefined) => !description?.trim();
  for (const type of types) {
    if (type.name.startsWith('__')) continue;
    if (blank(type.description)) missing.push(type.name);
    if (type.kind === 'OBJECT' || type.kind === 'INTERFACE') {
      for (const field of type.fields) {
        if (blank(field.description)) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (blank(arg.description)) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    }
    if (type.kind === 'INPUT_OBJECT') {
      for (const field of type.inputFields) if (blank(field.description)) missing.push(`${type.name}.${field.name}`);
    }
    if (type.kind === 'ENUM') {
      for (const value of type.enumValues) if (blank(value.description)) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

describe('schema descriptions', () => {
  it('describe every type, field, argument, input field and enum value', () => {
    expect(undescribed(schema.types)).toEqual([]);
  });

  it('name the error codes of every root field that can fail', () => {
    const roots = [schema.queryType, schema.mutationType, schema.subscriptionType].map((root) =>
      schema.types.find((type) => type.name === root?.name),
    );
    const fields = roots.flatMap((root) => (root?.kind === 'OBJECT' ? root.fields.map((field) => ({ root: root.name, ...field })) : []));
    expect(fields.length).toBeGreaterThanOrEqual(15);
    const silent = fields.filter(
      (field) => !/\b(UNAUTHENTICATED|BAD_USER_INPUT|NOT_FOUND|UPSTREAM_UNAVAILABLE)\b/.test(field.description ?? ''),
    );
    expect(silent.map((field) => `${field.root}.${field.name}`)).toEqual([]);
  });

  it('can fail: a type without a description is reported by name', () => {
    const [first] = schema.types.filter((type) => type.kind === 'OBJECT' && !type.name.startsWith('__'));
    expect(undescribed([{ ...first!, description: null } as never])).toContain(first!.name);
  });
});
