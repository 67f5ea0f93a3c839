/**
 * The upstream budget: the worst-case supplier calls of an operation, from its document and
 * variables, before anything runs.
 */
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { upstreamCalls } from '../../src/limits/budget.ts';
import { schema } from '../../src/schema/index.ts';

const calls = (query: string, variables: Record<string, unknown> = {}) => upstreamCalls(schema, parse(query), undefined, variables);
const ids = (count: number, from = 100_000) => Array.from({ length: count }, (_, i) => String(from + i));

describe('upstreamCalls', () => {
  it('counts one status call per distinct id, however many aliases repeat them', () => {
    const aliases = Array.from({ length: 100 }, (_, i) => `a${i}: orders(ids: $ids) { id status }`).join(' ');
    expect(calls(`query($ids: [ID!]!) { ${aliases} }`, { ids: ids(100) })).toBe(100);
  });

  it('counts the ids of every variable when aliases name different ones', () => {
    const variables = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`v${i}`, ids(100, 100_000 + i * 100)]));
    const query = `query(${Object.keys(variables)
      .map((name) => `$${name}: [ID!]!`)
      .join(', ')}) { ${Object.keys(variables)
      .map((name, i) => `a${i}: orders(ids: $${name}) { id status }`)
      .join(' ')} }`;
    expect(calls(query, variables)).toBe(10_000);
  });

  it('multiplies nested connections by their first, through fragments', () => {
    const query = `{ services(first: 500) { edges { node { ...F } } } } fragment F on Service { id inventory { stock } }`;
    expect(calls(query)).toBe(1 + 500);
    expect(calls(`{ categories { name subcategories { name services(first: 5) { totalCount } } } }`)).toBe(1 + 30 * 20);
    expect(calls(`{ categories { services(first: 500) { edges { node { inventory { stock } } } } } }`)).toBe(1 + 30 + 30 * 500);
  });

  it('counts the cached catalogue once per filter (service by id reads the unfiltered one), and the balance once', () => {
    expect(
      calls(
        `{ a: services(first: 5) { totalCount } b: services(first: 9) { totalCount } c: service(id: "1") { id } balance { amount } x: balance { amount } }`,
      ),
    ).toBe(2);
    expect(calls(`{ a: services(category: "X") { totalCount } b: services(category: "Y") { totalCount } }`)).toBe(2);
  });

  it('counts a status call per placement only when status fields are selected', () => {
    expect(calls(`{ placedOrders(first: 20) { edges { node { outcome order { id } } } } }`)).toBe(0);
    expect(calls(`{ placedOrders(first: 20) { edges { node { order { id status } } } } }`)).toBe(20);
  });

  it('counts what a placement costs before and after the spend', () => {
    expect(calls(`mutation { addOrder(input: { serviceId: "1", quantity: 1 }) { id } }`)).toBe(4);
    expect(calls(`mutation { addOrder(input: { serviceId: "1", quantity: 1 }) { id status } }`)).toBe(5);
  });

  it('costs nothing for introspection and __typename', () => {
    expect(calls(`{ __typename __schema { types { name } } }`)).toBe(0);
  });
});
