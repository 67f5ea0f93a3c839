/**
 * Every way a panel of the family was seen to print a number, read to one canonical decimal, and
 * what could mean two numbers refused.
 */
import { describe, expect, it } from 'vitest';
import { readDecimal } from '../../src/supplier/decimal.ts';

const ACCEPTED: Array<[unknown, string]> = [
  ['0.50', '0.50'],
  ['12', '12'],
  ['1.250', '1.250'],
  ['2,500.00000', '2500.00000'],
  ['1,250.00000', '1250.00000'],
  ['1,234.50000', '1234.50000'],
  ['1,234,567.89', '1234567.89'],
  ['1,250,000', '1250000'],
  ['1.250.000', '1250000'],
  ['1.234.567,89', '1234567.89'],
  ['1.234,5', '1234.5'],
  ['1,25', '1.25'],
  ['0,250', '0.250'],
  ['1,2500', '1.2500'],
  ['1 234,5', '1234.5'],
  ['1 234.5', '1234.5'],
  ['12 345 678,90', '12345678.90'],
  ['1\u00a0234,50', '1234.50'],
  ['1\u202f234,50', '1234.50'],
  ["1'234.50", '1234.50'],
  ['1\u2019234.50', '1234.50'],
  ['1_000.5', '1000.5'],
  ['  7.5  ', '7.5'],
  ['+5', '5'],
  ['+ 5.25', '5.25'],
  ['-3.5', '-3.5'],
  ['-1,234.5', '-1234.5'],
  ['-0', '0'],
  ['.5', '0.5'],
  ['1e3', '1000'],
  ['1.5e-7', '0.00000015'],
  ['2.5E+2', '250'],
  [0.5, '0.5'],
  [1250, '1250'],
  [1e21, '1000000000000000000000'],
  [1.5e-7, '0.00000015'],
  [-2.25, '-2.25'],
];

const REFUSED: unknown[] = [
  '1,250',
  '12,500',
  '1,234,5',
  '1.234.5',
  '1,23,456',
  '12 34',
  '1 234 56',
  "1'23.5",
  '1 234,567,8',
  '1,234.567,8',
  '1.',
  '',
  '   ',
  '+',
  'abc',
  '1a',
  '0x10',
  'Infinity',
  'NaN',
  '1e',
  '\u0661\u0662',
  '$5',
  '5 USD',
  Number.NaN,
  Number.POSITIVE_INFINITY,
  null,
  undefined,
  true,
  {},
  [],
];

describe('readDecimal', () => {
  it.each(ACCEPTED)('reads %j as %s', (spelled, canonical) => {
    expect(readDecimal(spelled)).toBe(canonical);
  });

  it.each(REFUSED.map((value) => [value]))('refuses %j', (spelled) => {
    expect(readDecimal(spelled)).toBeNull();
  });
});
