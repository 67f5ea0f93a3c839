import { describe, expect, it } from 'vitest';
import { errorFromSupplier } from '../../src/datasources/errors.ts';
import { orderStatus, parseOrderState, parseService, parseSmsStatus, smsStatus } from '../../src/datasources/parse.ts';

describe('tolerant parsing', () => {
  it('reads a service whose numbers are strings and booleans are 0/1', () => {
    const service = parseService({
      service: '308', name: 'Likes', type: 'Default', category: 'Instagram', rate: 0.5, min: '50', max: '10000',
      refill: 1, cancel: '0', stock: '10000', entityType: 'SMM', autoDelivery: 'true',
    });
    expect(service).toEqual({
      id: '308', name: 'Likes', type: 'Default', category: 'Instagram', rate: '0.5', min: 50, max: 10000,
      refill: true, cancel: false, stock: 10000, entityType: 'SMM', autoDelivery: true,
    });
  });

  it('keeps decimal strings exactly as sent', () => {
    const state = parseOrderState({ status: 'Completed', charge: '0.1234567890123', currency: 'EUR' }, '1');
    expect(state.charge).toEqual({ amount: '0.1234567890123', currency: 'EUR' });
  });

  it.each([
    ['Pending', 'PENDING'], ['pending', 'PENDING'], ['In progress', 'IN_PROGRESS'], ['IN_PROGRESS', 'IN_PROGRESS'],
    ['Processing', 'PROCESSING'], ['completed', 'COMPLETED'], ['Partial', 'PARTIAL'], ['Cancelled', 'CANCELED'],
    ['Refilling', 'UNKNOWN'],
  ])('reads order status %s as %s', (raw, expected) => {
    expect(orderStatus(raw)).toBe(expected);
  });

  it.each([
    ['active', 'ACTIVE'], ['code_received', 'CODE_RECEIVED'], ['Code Received', 'CODE_RECEIVED'],
    ['expired', 'EXPIRED'], ['waiting', 'WAITING'], ['banned', 'UNKNOWN'],
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
  ])('maps "%s" to %s and keeps the text', (text, code) => {
    const error = errorFromSupplier(text, 'add');
    expect(error.extensions).toMatchObject({ code, upstreamMessage: text });
  });
});
