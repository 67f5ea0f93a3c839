/**
 * The one reader of the supplier's numbers. Panels of this family are written in many languages
 * and print numbers as their framework does: strings or JSON numbers, thousands separated
 * (`2,500.00000`, `1 234,5`, `1'234.50`, `1.234.567,8`), with surrounding spaces, a leading `+`,
 * or in scientific notation from a float printer (`1.5e-7`). What can be read one way only is read;
 * what could mean two numbers (`1,250`: 1250 or 1.25?) is refused, never guessed: an amount of
 * money read wrong by a factor of a thousand is worse than none.
 */
import Big from 'big.js';

/** Thousands separators seen in the wild, besides `,` and `.`: spaces (plain, no-break, narrow no-break), `'` and `’`. */
const GROUPING = /[ \u00a0\u202f'\u2019_]/;

/** Digits in groups of three after a first group of one to three, joined by the separator, one pattern per separator. */
const GROUPED: Record<string, RegExp> = Object.fromEntries(
  [',', '.', ' ', '\u00a0', '\u202f', "'", '\u2019', '_'].map((separator) => [
    separator,
    new RegExp(`^\\d{1,3}(${separator === '.' ? '\\.' : separator}\\d{3})+$`),
  ]),
);
const grouped = (digits: string, separator: string) => GROUPED[separator]!.test(digits);

/** What most panels send, HstockPlus among them: read as it is, before anything slower. */
const PLAIN = /^-?\d+(\.\d+)?$/;

const SCIENTIFIC = /^\d+(\.\d+)?e[+-]?\d+$/i;

/** The canonical text of a decimal (digits, at most one `.`, an optional `-`), or null when it is not one. */
export function readDecimal(value: unknown): string | null {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const shortest = String(value);
    return shortest.includes('e') ? new Big(value).toFixed() : shortest;
  }
  if (typeof value !== 'string') return null;
  if (PLAIN.test(value)) return value === '-0' ? '0' : value;
  let raw = value.trim();
  let sign = '';
  if (raw.startsWith('-') || raw.startsWith('+')) {
    sign = raw[0] === '-' ? '-' : '';
    raw = raw.slice(1).trimStart();
  }
  if (raw === '') return null;
  if (SCIENTIFIC.test(raw)) return sign + new Big(raw).toFixed();
  const unsigned = plain(raw);
  if (unsigned === null) return null;
  return unsigned === '0' || /^0\.0+$/.test(unsigned) ? unsigned : sign + unsigned;
}

/** An unsigned number with at most one kind of grouping, as `123.45` text. */
function plain(raw: string): string | null {
  const other = GROUPING.exec(raw)?.[0];
  if (other !== undefined) {
    // A space or apostrophe groups thousands; the decimal mark is then whichever of `.` or `,` follows.
    const [whole, fraction, extra] = raw.split(/[.,]/);
    if (extra !== undefined || !grouped(whole!, other)) return null;
    const digits = whole!.split(other).join('');
    return fraction === undefined ? digits : /^\d+$/.test(fraction) ? `${digits}.${fraction}` : null;
  }
  const lastDot = raw.lastIndexOf('.');
  const lastComma = raw.lastIndexOf(',');
  if (lastDot >= 0 && lastComma >= 0) {
    // Both: the last one is the decimal mark, the other groups thousands.
    const [mark, group] = lastDot > lastComma ? ['.', ','] : [',', '.'];
    const at = raw.lastIndexOf(mark);
    const whole = raw.slice(0, at);
    const fraction = raw.slice(at + 1);
    return grouped(whole, group) && /^\d+$/.test(fraction) ? `${whole.split(group).join('')}.${fraction}` : null;
  }
  for (const mark of ['.', ','] as const) {
    if (!raw.includes(mark)) continue;
    const parts = raw.split(mark);
    // One mark: the decimal mark, unless it could as well group thousands (`1,250`), which is
    // refused, or it is `.`, which JSON and most panels use for decimals. Several: thousands.
    if (parts.length > 2) return grouped(raw, mark) ? parts.join('') : null;
    const [whole, fraction] = parts as [string, string];
    if (!/^\d*$/.test(whole) || !/^\d+$/.test(fraction)) return null;
    if (mark === ',' && fraction.length === 3 && whole !== '0') return null;
    return `${whole || '0'}.${fraction}`;
  }
  return /^\d+$/.test(raw) ? raw : null;
}
