/**
 * Reading a `services` answer of 2,000 entries, side by side: today's parser (any panel's numbers,
 * see decimal.ts) and the one before it, kept here as it was (plain decimals only, JSON numbers and
 * `Number()` for counts). Both read HstockPlus's own spelling; today's also reads a panel's.
 */
import { parseServices } from '../../src/supplier/parse.ts';

const ENTRIES = 2_000;
const ROUNDS = 200;

function answer(spell: (amount: number) => string | number) {
  return {
    services: Array.from({ length: ENTRIES }, (_, n) => ({
      service: n + 1,
      name: `Service ${n + 1}`,
      type: 'Default',
      category: `Category ${n % 20}`,
      rate: spell(0.5 + (n % 1500) * 1.37),
      min: n % 3 === 0 ? '10' : 10,
      max: 100_000,
      refill: n % 2 === 0,
      cancel: '0',
      stock: n * 7,
      entityType: n % 10 === 0 ? 'Product' : 'SMM',
      autoDelivery: true,
    })),
  };
}

/**
 * The service parser as it was before it read any panel's numbers (plain decimals only, `Number()`
 * for counts), copied whole so the baseline costs what it cost.
 */
const before = (() => {
  type Json = Record<string, unknown>;
  const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
  const record = (value: unknown, what: string): Json => {
    if (!isRecord(value)) throw new Error(`${what}: expected an object`);
    return value;
  };
  const text = (value: unknown): string | null =>
    typeof value === 'string'
      ? value.trim() === ''
        ? null
        : value.trim()
      : typeof value === 'number' && Number.isFinite(value)
        ? String(value)
        : null;
  const requiredText = (value: unknown, what: string) => text(value) ?? fail(what);
  const int = (value: unknown): number | null => {
    const raw = typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : value;
    return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : null;
  };
  const requiredInt = (value: unknown, what: string) => int(value) ?? fail(what);
  const bool = (value: unknown): boolean | null => {
    if (typeof value === 'boolean') return value;
    if (value === 1 || value === 0) return value === 1;
    if (typeof value === 'string') {
      const lower = value.trim().toLowerCase();
      if (['1', 'true', 'yes', 'y'].includes(lower)) return true;
      if (['0', 'false', 'no', 'n', ''].includes(lower)) return false;
    }
    return null;
  };
  const DECIMAL = /^-?\d+(\.\d+)?$/;
  const decimal = (value: unknown): string | null => {
    const raw = typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
    return raw === null || !DECIMAL.test(raw) ? null : raw;
  };
  const requiredDecimal = (value: unknown, what: string) => decimal(value) ?? fail(what);
  const entityType = (value: unknown) => {
    const lower = text(value)?.toLowerCase();
    return lower === 'smm' ? 'SMM' : lower === 'product' ? 'PRODUCT' : null;
  };
  function fail(what: string): never {
    throw new Error(what);
  }
  const parseService = (item: unknown) => {
    const entry = record(item, 'service');
    const id = requiredText(entry.service ?? entry.id, 'service id');
    return {
      id,
      name: requiredText(entry.name, `service ${id} name`),
      type: text(entry.type) ?? 'Default',
      category: text(entry.category) ?? '',
      rate: requiredDecimal(entry.rate, `service ${id} rate`),
      min: requiredInt(entry.min, `service ${id} min`),
      max: requiredInt(entry.max, `service ${id} max`),
      refill: bool(entry.refill) ?? false,
      cancel: bool(entry.cancel) ?? false,
      stock: int(entry.stock) ?? 0,
      entityType: entityType(entry.entityType ?? entry.entity_type) ?? 'SMM',
      autoDelivery: bool(entry.autoDelivery ?? entry.auto_delivery) ?? true,
    };
  };
  return {
    parse(body: { services: unknown[] }) {
      const result = [];
      for (const item of body.services) {
        try {
          result.push(parseService(item));
        } catch {
          // left out, as it was, unsaid
        }
      }
      return result;
    },
  };
})();

function time(run: () => unknown): number {
  for (let n = 0; n < 20; n += 1) run(); // warm up
  const started = performance.now();
  for (let n = 0; n < ROUNDS; n += 1) run();
  return (performance.now() - started) / ROUNDS;
}

export function benchParse(): void {
  const hstock = answer((amount) => amount.toFixed(2));
  const panel = answer((amount) => amount.toLocaleString('en-US', { minimumFractionDigits: 5, maximumFractionDigits: 5 }));
  if (parseServices(panel).length !== ENTRIES || parseServices(hstock).length !== ENTRIES) throw new Error('the parser left entries out');
  // Alternated, so that neither gains from running second.
  let baseline = 0;
  let today = 0;
  for (let round = 0; round < 3; round += 1) {
    baseline += time(() => before.parse(hstock)) / 3;
    today += time(() => parseServices(hstock)) / 3;
  }
  const panelToday = time(() => parseServices(panel));
  console.log(`\n== parse: services of ${ENTRIES} entries, ms per answer (mean of ${ROUNDS})`);
  console.log(`before, HstockPlus's numbers   ${baseline.toFixed(3)}`);
  console.log(`today,  HstockPlus's numbers   ${today.toFixed(3)}  (${((today / baseline - 1) * 100).toFixed(1)} % against before)`);
  console.log(
    `today,  a panel's (2,500.00000) ${panelToday.toFixed(3)}  (before: ${before.parse(panel).length} of ${ENTRIES} entries read)`,
  );
}
