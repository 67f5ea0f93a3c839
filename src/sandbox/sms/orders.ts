import { SandboxInputError } from '../errors.ts';
import { credit, type Account } from '../world/accounts.ts';
import type { Decimal } from '../world/money.ts';
import { mulberry32, randomInt, seedFor, type Random } from '../world/random.ts';
import type { SmsCountry, SmsProject } from './catalogue.ts';

type SmsOutcome = 'code' | 'no_code';
export type SmsStatus = 'active' | 'code_received' | 'expired';

export interface SmsPatch {
  outcome?: SmsOutcome;
  /** Answered verbatim as the `sms_status` status. */
  rawStatus?: string;
}

export interface SmsTimings {
  codeDelayMs: number;
  lifetimeMs: number;
  noCodeShare: number;
}

export interface SmsOrder {
  id: number;
  account: Account;
  project: SmsProject;
  phone: string;
  charge: Decimal;
  createdAt: number;
  expiresAt: number;
  /** When the SMS arrives; null when it never does. */
  codeAt: number | null;
  code: string;
  finalAt: number;
  rawStatus?: string;
  settled: boolean;
}

export interface NewSmsOrder {
  id: number;
  account: Account;
  project: SmsProject;
  /** A number to reuse; a fresh one is drawn when absent. */
  phone: string | undefined;
  charge: Decimal;
  now: number;
  seed: number;
}

const SMS_ORDER_SALT = 4;

export function createSmsOrder(order: NewSmsOrder, timings: SmsTimings): SmsOrder {
  const random = mulberry32(seedFor(order.seed, SMS_ORDER_SALT, order.id));
  const noCode = random() < timings.noCodeShare;
  const created: SmsOrder = {
    ...order,
    phone: order.phone ?? phoneNumber(random, order.project.country),
    createdAt: order.now,
    expiresAt: order.now + timings.lifetimeMs,
    codeAt: null,
    code: String(randomInt(random, 100000, 999999)),
    finalAt: 0,
    settled: false,
  };
  aimAt(created, noCode ? 'no_code' : 'code', order.now, timings);
  return created;
}

function phoneNumber(random: Random, country: SmsCountry): string {
  let national = String(randomInt(random, 1, 9));
  while (national.length < country.digits) national += String(randomInt(random, 0, 9));
  return `+${country.dialCode}${national}`;
}

function aimAt(order: SmsOrder, outcome: SmsOutcome, now: number, timings: SmsTimings): void {
  const arrival = Math.max(now, order.createdAt + timings.codeDelayMs);
  order.codeAt = outcome === 'code' && arrival < order.expiresAt ? arrival : null;
  order.finalAt = order.codeAt ?? order.expiresAt;
}

export function smsState(order: SmsOrder, now: number): SmsStatus {
  if (now < order.finalAt) return 'active';
  return order.codeAt === null ? 'expired' : 'code_received';
}

/** A number that expires without a code costs nothing: its price comes back once. */
export function settleSms(order: SmsOrder, now: number): void {
  if (order.settled || now < order.finalAt) return;
  order.settled = true;
  if (order.codeAt === null) credit(order.account, order.charge);
}

export function patchSms(order: SmsOrder, patch: SmsPatch, now: number, timings: SmsTimings): void {
  if (patch.outcome) {
    if (order.settled) throw new SandboxInputError(`SMS order ${order.id} is already final`, 409);
    aimAt(order, patch.outcome, now, timings);
  }
  if (patch.rawStatus !== undefined) order.rawStatus = patch.rawStatus;
}
