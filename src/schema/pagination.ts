/**
 * Relay-style pages over a cached, filtered list. Cursors are opaque to callers; inside they carry
 * the position and the id found there, so a page walk stays on track when the list shifts.
 */
import { badInput } from '../errors.ts';

export const MAX_PAGE_SIZE = 500;
const DEFAULT_PAGE_SIZE = 50;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

const encode = (offset: number, id: string) => Buffer.from(`v1:${offset}:${id}`).toString('base64url');

function decode(cursor: string): { offset: number; id: string } {
  const match = /^v1:(\d{1,9}):(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || Buffer.from(cursor, 'base64url').toString('base64url') !== cursor.replace(/=+$/, '')) {
    throw badInput('after is not a cursor this API gave out.', { field: 'after' });
  }
  return { offset: Number(match[1]), id: match[2] as string };
}

/** The index just after the cursor's item: found by id, else by position if the item is gone. */
function start<T extends { id: string }>(items: readonly T[], after: string): number {
  const { offset, id } = decode(after);
  if (items[offset]?.id === id) return offset + 1;
  const index = items.findIndex((item) => item.id === id);
  return index >= 0 ? index + 1 : Math.min(offset + 1, items.length);
}

export function paginate<T extends { id: string }>(items: readonly T[], args: PageArgs): Page<T> {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput(`first must be an integer from 0 to ${MAX_PAGE_SIZE}, got ${first}.`, { field: 'first' });
  }
  const from = args.after ? start(items, args.after) : 0;
  const edges = items.slice(from, from + first).map((node, index) => ({ cursor: encode(from + index, node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: from + first < items.length,
      hasPreviousPage: from > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: items.length,
  };
}

const encodeId = (id: string) => Buffer.from(`id:${id}`).toString('base64url');

/**
 * For lists a store pages itself (newest first, by id): checks the arguments before anything is
 * read and gives the id to start after.
 */
export function storedPageArgs(args: PageArgs): { first: number; after?: string } {
  paginate([], { first: args.first });
  if (!args.after) return { first: args.first ?? DEFAULT_PAGE_SIZE };
  const raw = Buffer.from(args.after, 'base64url').toString('utf8');
  if (!raw.startsWith('id:') || encodeId(raw.slice(3)) !== args.after.replace(/=+$/, '')) {
    throw badInput('after is not a cursor this API gave out.', { field: 'after' });
  }
  return { first: args.first ?? DEFAULT_PAGE_SIZE, after: raw.slice(3) };
}

export function storedPage<T extends { id: string }>(
  items: readonly T[],
  more: { hasNextPage: boolean; totalCount: number; after?: string },
): Page<T> {
  const edges = items.map((node) => ({ cursor: encodeId(node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: more.hasNextPage,
      hasPreviousPage: more.after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: more.totalCount,
  };
}

/** Checks a cursor before anything is fetched, so a malformed one costs no upstream call. */
export function checkPageArgs(args: PageArgs): void {
  if (args.after) decode(args.after);
  paginate([], { first: args.first });
}
