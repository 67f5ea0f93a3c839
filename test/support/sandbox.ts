/** The sandbox alone, for its own tests: started with a frozen clock, spoken to in the supplier's wire format. */
import Big from 'big.js';
import { afterEach } from 'vitest';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from './keys.ts';

export interface ServiceView {
  service: number;
  name: string;
  type: string;
  category: string;
  rate: string;
  min: number;
  max: number;
  refill: boolean;
  cancel: boolean;
  stock: number;
  entityType: 'smm' | 'product';
  autoDelivery: boolean;
}

export interface ServicesPage {
  services: ServiceView[];
  total: number;
  page: number;
  limit: number;
  total_pages: number;
}

export interface OrderStatus {
  status: string;
  charge: string;
  start_count: number;
  remains: number;
  currency: string;
  entityType?: string;
  autoDelivery: boolean;
  accounts?: string[];
}

export interface SmsProject {
  project_id: string;
  name: string;
  price: string;
  country_id: string;
  country_title: string;
}

export interface SmsOrders {
  orders: { order: number; phone: string; country: string; status: string }[];
}

export interface SmsStatus {
  status: string;
  phone: string;
  code: string | null;
  charge: string;
  currency: string;
  expires_at: string;
}

export type Fields = Record<string, string | number>;

const running: Sandbox[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
});

/** A sandbox on an ephemeral port with a frozen clock (only advance() moves it), closed after each test. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await createSandbox({ timeScale: 0, ...options });
  running.push(sandbox);
  return sandbox;
}

export function form(fields: Fields): URLSearchParams {
  return new URLSearchParams(Object.entries(fields).map(([name, value]) => [name, String(value)]));
}

/** Posts form fields as the supplier's page shows and returns the parsed JSON answer. */
export async function call<T = Record<string, unknown>>(sandbox: Sandbox, fields: Fields): Promise<T> {
  const response = await fetch(sandbox.url, { method: 'POST', body: form(fields) });
  return (await response.json()) as T;
}

export async function errorOf(sandbox: Sandbox, fields: Fields): Promise<string | undefined> {
  return (await call<{ error?: string }>(sandbox, fields)).error;
}

export async function allServices(sandbox: Sandbox, key = DEMO_KEY): Promise<ServiceView[]> {
  return (await call<ServicesPage>(sandbox, { key, action: 'services' })).services;
}

export async function findService(sandbox: Sandbox, matches: (service: ServiceView) => boolean, key = DEMO_KEY): Promise<ServiceView> {
  const service = (await allServices(sandbox, key)).find(matches);
  if (!service) throw new Error('no service in the catalogue matches');
  return service;
}

export async function placeOrder(sandbox: Sandbox, fields: Fields, key = DEMO_KEY): Promise<number> {
  const answer = await call<{ order?: number; error?: string }>(sandbox, { key, action: 'add', ...fields });
  if (answer.order === undefined) throw new Error(`add failed: ${answer.error}`);
  return answer.order;
}

export async function orderStatus(sandbox: Sandbox, order: number, key = DEMO_KEY): Promise<OrderStatus> {
  return call<OrderStatus>(sandbox, { key, action: 'status', order });
}

export async function balanceOf(sandbox: Sandbox, key = DEMO_KEY): Promise<string> {
  return (await call<{ balance: string }>(sandbox, { key, action: 'balance' })).balance;
}

export async function admin(sandbox: Sandbox, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${sandbox.origin}/__sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Money as the sandbox prints it: to 4 decimals, with up to two trailing zeros dropped ("0.50", "0.0555"). */
export function money(amount: Big.BigSource | undefined): string {
  const [whole, fraction = ''] = new Big(amount ?? 0).toFixed(4, Big.roundHalfUp).split('.');
  return `${whole}.${fraction.replace(/0{1,2}$/, '')}`;
}
