/**
 * The settings the gateway reads and the settings its documentation lists are the same: a setting
 * read and not listed is one an operator cannot find, and one listed and not read does nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Every variable loadConfig looks at, read through environments that record each name asked for:
 * one empty, and one with each setting set that makes others matter (traces on, customers' tokens taken).
 */
function settingsRead(): Set<string> {
  const asked = new Set<string>();
  const turnedOn = [
    {},
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    { JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'shop' },
  ];
  for (const given of turnedOn as Record<string, string>[]) {
    const env = new Proxy(given, {
      get: (target, name) => {
        if (typeof name === 'string') asked.add(name);
        return typeof name === 'string' ? target[name] : undefined;
      },
    });
    loadConfig(env);
  }
  return asked;
}

/** The first cell of each row of the tables headed `| Variable |`, in README.md and docs/. */
function settingsListed(): Set<string> {
  const docs = readdirSync(join(ROOT, 'docs'), { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => join(ROOT, 'docs', entry.name));
  const listed = new Set<string>();
  for (const file of [join(ROOT, 'README.md'), ...docs]) {
    for (const [table] of readFileSync(file, 'utf8').matchAll(/^\| Variable \|.*\n(?:\|.*\n?)*/gm)) {
      for (const [, name] of table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)) listed.add(name!);
    }
  }
  return listed;
}

it('documents every setting it reads, and reads every setting it documents', () => {
  const read = settingsRead();
  const listed = settingsListed();
  expect(read.size).toBeGreaterThan(50);
  expect([...read].filter((name) => !listed.has(name)).sort()).toEqual([]);
  expect([...listed].filter((name) => !read.has(name)).sort()).toEqual([]);
});
