import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import { decimal, formatGrouped, formatMoney, formatPrice, parseDecimal, scale } from '../../src/sandbox/world/money.ts';

describe('sandbox money', () => {
  it('prints money with 2 to 4 decimals', () => {
    expect(formatMoney(decimal('1000'))).toBe('1000.00');
    expect(formatMoney(decimal('0.5'))).toBe('0.50');
    expect(formatMoney(decimal('0.0555'))).toBe('0.0555');
    expect(formatMoney(decimal('0.123'))).toBe('0.123');
    expect(formatMoney(decimal('2.00005'))).toBe('2.0001');
  });

  it('prints SMS prices with exactly 4 decimals', () => {
    expect(formatPrice(decimal('0.5'))).toBe('0.5000');
  });

  it('prints amounts of the panel flavour with thousands separators and 5 decimals', () => {
    expect(formatGrouped(decimal('2500'))).toBe('2,500.00000');
    expect(formatGrouped(decimal('0.5'))).toBe('0.50000');
    expect(formatGrouped(decimal('0'))).toBe('0.00000');
    expect(formatGrouped(decimal('999.9999'))).toBe('999.99990');
    expect(formatGrouped(decimal('1234567.891'))).toBe('1,234,567.89100');
    expect(formatGrouped(decimal('100000'))).toBe('100,000.00000');
  });

  it('rounds products and quotients half-up to 4 decimals, exactly', () => {
    expect(scale(decimal('0.37'), 7, 1000).toFixed()).toBe('0.0026');
    expect(scale(decimal('0.37'), 5, 1000).toFixed()).toBe('0.0019');
    expect(scale(decimal('1'), 1, 3).toFixed()).toBe('0.3333');
    expect(scale(decimal('2'), 1, 3).toFixed()).toBe('0.6667');
    expect(scale(decimal('0.1'), 3).toFixed()).toBe('0.3');
  });

  it('keeps its rounding when the embedding process changes big.js defaults', () => {
    const { DP, RM } = Big;
    Big.DP = 2;
    Big.RM = Big.roundDown;
    try {
      expect(scale(decimal('2'), 1, 3).toFixed()).toBe('0.6667');
    } finally {
      Big.DP = DP;
      Big.RM = RM;
    }
  });

  it('accepts only non-negative decimal strings', () => {
    expect(parseDecimal('12.50', 'balance').toFixed(2)).toBe('12.50');
    for (const text of ['-1', '1e3', 'abc', '', '1.']) expect(() => parseDecimal(text, 'balance')).toThrow(/balance/);
  });
});
