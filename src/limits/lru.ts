/**
 * A bound in entries for lru-cache that allocates nothing up front: its `max` reserves the whole
 * size at once (about 1.1 MiB per 100,000 entries), which for a cache per caller would cost every
 * caller that much before it stored anything.
 */
export const bounded = (entries: number) => ({ maxSize: entries, sizeCalculation: () => 1 });
