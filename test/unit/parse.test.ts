import { describe, expect, it } from 'vitest';
import { errorFromSupplier } from '../../src/errors.ts';
import {
  orderStatus,
  parseBalance,
  parseCancels,
  parseOrderState,
  parseRefillId,
  parseRefillStates,
  parseService,
  parseServices,
  parseSmsStatus,
  SingleStatusOnly,
  smsStatus,
} from '../../src/supplier/parse.ts';
import { isFinalOrder } from '../../src/supplier/states.ts';

describe('tolerant parsing', () => {
  it('reads a service whose numbers are strings and booleans are 0/1', () => {
    const service = parseService({
      service: '308',
      name: 'Likes',
      type: 'Default',
      category: 'Instagram',
      rate: 0.5,
      min: '50',
      max: '10000',
      refill: 1,
      cancel: '0',
      stock: '10000',
      entityType: 'SMM',
      autoDelivery: 'true',
      dripfeed: '1',
    });
    expect(service).toEqual({
      id: '308',
      name: 'Likes',
      type: 'Default',
      category: 'Instagram',
      subcategory: null,
      rate: '0.5',
      min: 50,
      max: 10000,
      refill: true,
      cancel: false,
      stock: 10000,
      entityType: 'SMM',
      autoDelivery: true,
      dripfeed: true,
    });
  });

  it('keeps decimal strings exactly as sent', () => {
    const state = parseOrderState({ status: 'Completed', charge: '0.1234567890123', currency: 'EUR' }, '1');
    expect(state.charge).toEqual({ amount: '0.1234567890123', currency: 'EUR' });
  });

  it.each([
    ['Pending', 'PENDING'],
    ['pending', 'PENDING'],
    ['In progress', 'IN_PROGRESS'],
    ['IN_PROGRESS', 'IN_PROGRESS'],
    ['Processing', 'PROCESSING'],
    ['completed', 'COMPLETED'],
    ['Partial', 'PARTIAL'],
    ['Cancelled', 'CANCELED'],
    ['Canceled', 'CANCELED'],
    ['Refunded', 'CANCELED'],
    ['refund', 'CANCELED'],
    ['Fail', 'CANCELED'],
    ['FAILED', 'CANCELED'],
    ['Error', 'CANCELED'],
    ['Rejected', 'CANCELED'],
    ['Awaiting', 'PENDING'],
    ['Queued', 'PENDING'],
    ['in  progress', 'IN_PROGRESS'],
    [' Partially completed ', 'PARTIAL'],
    ['Refilling', 'UNKNOWN'],
  ])('reads order status %s as %s', (raw, expected) => {
    expect(orderStatus(raw)).toBe(expected);
  });

  it('ends an order a panel of the family calls Refunded or Fail', () => {
    for (const raw of ['Refunded', 'Fail']) expect(isFinalOrder(parseOrderState({ status: raw }, '1'))).toBe(true);
  });

  it('reads amounts and counts printed with thousands separators', () => {
    expect(parseBalance({ balance: '2,500.00000', currency: 'USD' })).toEqual({ amount: '2500.00000', currency: 'USD' });
    expect(parseService({ service: 1, name: 'x', category: 'c', rate: '1,250.00000', min: '1,000,000', max: 2_000_000 })).toMatchObject({
      rate: '1250.00000',
      min: 1_000_000,
    });
    expect(parseOrderState({ status: 'Completed', charge: '1,234.50000' }, '1').charge).toEqual({ amount: '1234.50000', currency: 'USD' });
  });

  it('says what it left out of a list, and keeps the rest', () => {
    const skipped: string[] = [];
    const services = parseServices(
      {
        services: [
          { service: 1, name: 'a', rate: '1,250', min: 1, max: 2 },
          { service: 2, name: 'b', rate: '1.5', min: 1, max: 2 },
        ],
      },
      (problem) => skipped.push(problem),
    );
    expect(services.map((service) => service.id)).toEqual(['2']);
    expect(skipped).toEqual(['service 1 rate: expected a decimal']);
  });

  it('leaves stock and delivery null when the supplier does not say, and takes a service as SMM only when it does not say', () => {
    expect(parseService({ service: 1, name: 'x', rate: '1', min: 1, max: 2 })).toMatchObject({
      stock: null,
      autoDelivery: null,
      entityType: 'SMM',
    });
    expect(() => parseService({ service: 1, name: 'x', rate: '1', min: 1, max: 2, entityType: 'gift card' })).toThrow(/entityType/);
  });

  it.each([
    ['active', 'ACTIVE'],
    ['code_received', 'CODE_RECEIVED'],
    ['Code Received', 'CODE_RECEIVED'],
    ['expired', 'EXPIRED'],
    ['waiting', 'WAITING'],
    ['banned', 'UNKNOWN'],
  ])('reads SMS status %s as %s', (raw, expected) => {
    expect(smsStatus(raw)).toBe(expected);
  });

  it('reads an SMS status with a unix expiry time', () => {
    expect(parseSmsStatus({ status: 'active', expires_at: '1700000000' }, '9').expiresAt).toBe('2023-11-14T22:13:20.000Z');
  });

  it('refuses a service without a rate rather than inventing one', () => {
    expect(() => parseService({ service: 1, name: 'x', min: 1, max: 2 })).toThrow(/rate/);
  });
});

describe('the supplier error map', () => {
  it.each([
    ['Invalid API key', 'UNAUTHENTICATED'],
    ['Insufficient balance', 'INSUFFICIENT_BALANCE'],
    ['Not enough funds', 'INSUFFICIENT_BALANCE'],
    ['Order not found', 'NOT_FOUND'],
    ['Incorrect order ID', 'NOT_FOUND'],
    ['Service not found', 'NOT_FOUND'],
    ['Not enough stock', 'OUT_OF_STOCK'],
    ['Too many requests', 'RATE_LIMITED'],
    ['Service ID is required', 'UPSTREAM_ERROR'],
    ['Quantity must be between 10 and 100', 'UPSTREAM_ERROR'],
    ['Database connection failed. Please try again later.', 'UPSTREAM_UNAVAILABLE'],
    ['Panel under maintenance', 'UPSTREAM_UNAVAILABLE'],
    ['Server is busy', 'UPSTREAM_UNAVAILABLE'],
    ['Service temporarily unavailable', 'UPSTREAM_UNAVAILABLE'],
    ['Unknown action', 'UPSTREAM_ERROR'],
  ])('maps "%s" to %s and keeps the text', (text, code) => {
    const error = errorFromSupplier(text, 'add');
    expect(error.extensions).toMatchObject({ code, upstreamMessage: text });
  });
});

describe('refills and cancels of the API v2 family', () => {
  it('reads a refill id given as a string or a number', () => {
    expect(parseRefillId({ refill: '300001' })).toBe('300001');
    expect(parseRefillId({ refill: 300002 })).toBe('300002');
    expect(() => parseRefillId({ refill: '' })).toThrow();
  });

  it("reads many refills' statuses, each id's own error, a missing id, and the family's words", () => {
    const skipped: string[] = [];
    const states = parseRefillStates(
      [
        { refill: 1, status: 'Completed' },
        { refill: '2', status: 'Rejected' },
        { refill: 3, status: { error: 'Refill not found' } },
        { refill: 5, status: 'In progress' },
        { refill: 6, status: 'Canceled' },
        { refill: 7, status: 'Awaiting moderation' },
        { refill: 8, status: 42 },
        { status: 'Completed' },
      ],
      ['1', '2', '3', '4', '5', '6', '7', '8'],
      (problem) => skipped.push(problem),
    );
    const view = [...states].map(([id, state]) => [
      id,
      typeof state === 'string' ? state : state instanceof Error ? 'unreadable' : state.status,
    ]);
    expect(view).toEqual([
      ['1', 'COMPLETED'],
      ['2', 'REJECTED'],
      ['3', 'Refill not found'],
      ['4', 'Refill not found'],
      ['5', 'IN_PROGRESS'],
      ['6', 'REJECTED'],
      ['7', 'UNKNOWN'],
      ['8', 'UNKNOWN'],
    ]);
    expect(skipped).toEqual(['refill_status: an entry without refill']);
  });

  it('tells a single-refill answer to refills= apart, so that refills are read one at a time', () => {
    expect(() => parseRefillStates({ status: 'Pending' }, ['1', '2'])).toThrow(SingleStatusOnly);
  });

  it('reads each cancel as asked (1) or its own error, and an answer it cannot read as unreadable', () => {
    const skipped: string[] = [];
    const asked = parseCancels(
      [
        { order: 9, cancel: { error: 'Incorrect order ID' } },
        { order: 2, cancel: 1 },
        { order: '3', cancel: '1' },
        { order: 4, cancel: 'maybe' },
      ],
      ['2', '3', '4', '9', '10'],
      (problem) => skipped.push(problem),
    );
    expect([...asked].map(([id, answer]) => [id, answer instanceof Error ? 'unreadable' : answer])).toEqual([
      ['2', true],
      ['3', true],
      ['4', 'unreadable'],
      ['9', 'Incorrect order ID'],
      ['10', 'Incorrect order ID'],
    ]);
    expect(skipped).toHaveLength(1);
  });
});
