import { describe, expect, it } from 'vitest';
import { errorFromSupplier } from '../../src/errors.ts';
import {
  orderStatus,
  parseBalance,
  parseOrderState,
  parseService,
  parseServices,
  parseSmsStatus,
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
