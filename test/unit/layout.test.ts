/**
 * The layout in docs/architecture.md lists every file of src/ and no file that is gone: the map a
 * newcomer reads first must be the tree as it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [relative(ROOT, join(dir, entry.name))] : [],
  );
}

/** The files of the layout's src/ block, their paths rebuilt from its indentation (two spaces a level). */
function listed(): string[] {
  const text = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const block = /^src\/ .*\n((?: {2}.*\n)+)/m.exec(text)![1]!;
  const folders: string[] = ['src/'];
  const files: string[] = [];
  for (const line of block.split('\n').filter(Boolean)) {
    const depth = /^( *)/.exec(line)![1]!.length / 2;
    const name = line.trim().split(/\s+/)[0]!;
    folders.length = depth;
    if (name.endsWith('/')) folders.push(name);
    else files.push(folders.join('') + name);
  }
  return files;
}

it('lists every file of src/ in docs/architecture.md, and only those', () => {
  expect(listed().sort()).toEqual(sources(join(ROOT, 'src')).sort());
});
