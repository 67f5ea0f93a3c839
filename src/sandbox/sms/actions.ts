import { ERRORS, SupplierError } from '../errors.ts';
import { ownOrder, text, wholeNumber, type Fields, type Json } from '../http/form.ts';
import { caseStatus } from '../http/quirks.ts';
import { debit, type Account } from '../world/accounts.ts';
import { scale, type Decimal } from '../world/money.ts';
import { watchSms, type ActionContext, type World } from '../world/world.ts';
import type { SmsProject } from './catalogue.ts';
import { createSmsOrder, smsState } from './orders.ts';

const MAX_NUMBERS = 10;

function priceFor(account: Account, project: SmsProject): Decimal {
  return scale(project.price, account.rateMultiplier);
}

const digits = (phone: string) => phone.replace(/\D/g, '');

export function smsProjects({ world, account, fields }: ActionContext): Json {
  const country = text(fields, 'country')?.toLowerCase();
  return world.sms.projects
    .filter((project) => country === undefined || project.country.code === country)
    .map((project) => ({
      project_id: project.id,
      name: project.name,
      price: world.flavour.smsMoney(priceFor(account, project)),
      country_id: project.country.code,
      country_title: project.country.name,
    }));
}

export function smsCountries({ world }: ActionContext): Json {
  return world.sms.countries.map((country) => ({ country_code: country.code, country_name: country.name }));
}

/** Rents `quantity` numbers, or one number again when `phone` names one this key rented before. */
export function addSms({ world, account, fields, now }: ActionContext): Json {
  const project = requireProject(world, fields);
  const quantity = requireCount(fields);
  const country = text(fields, 'country')?.toLowerCase();
  if (country !== undefined && country !== project.country.code) throw new SupplierError(ERRORS.countryMismatch);
  const reused = reusedPhone(account, project, fields);
  const numbers = reused === undefined ? quantity : 1;
  const price = priceFor(account, project);
  debit(account, price.times(numbers));
  const orders = Array.from({ length: numbers }, () => {
    const order = createSmsOrder(
      { id: world.nextSmsId++, account, project, phone: reused, charge: price, now, seed: world.seed },
      world.smsTimings,
    );
    world.smsOrders.set(order.id, order);
    account.phones.set(digits(order.phone), { phone: order.phone, country: project.country });
    watchSms(world, order);
    return { order: order.id, phone: order.phone, country: project.country.code, status: 'active' };
  });
  return { orders };
}

function requireProject(world: World, fields: Fields): SmsProject {
  const id = text(fields, 'project_id');
  if (id === undefined) throw new SupplierError(ERRORS.projectRequired);
  const project = world.sms.byId.get(id);
  if (!project) throw new SupplierError(ERRORS.projectNotFound);
  return project;
}

function requireCount(fields: Fields): number {
  const raw = text(fields, 'quantity');
  if (raw === undefined) return 1;
  const quantity = wholeNumber(raw);
  if (quantity === undefined || quantity < 1 || quantity > MAX_NUMBERS) {
    throw new SupplierError(ERRORS.smsQuantityRange);
  }
  return quantity;
}

function reusedPhone(account: Account, project: SmsProject, fields: Fields): string | undefined {
  const phone = text(fields, 'phone');
  if (phone === undefined) return undefined;
  const rented = account.phones.get(digits(phone));
  if (!rented) throw new SupplierError(ERRORS.phoneNotFound);
  if (rented.country !== project.country) throw new SupplierError(ERRORS.countryMismatch);
  return rented.phone;
}

export function smsCode({ world, account, fields, now }: ActionContext): Json {
  const order = ownOrder(world.smsOrders, account, fields);
  const state = smsState(order, now);
  if (state === 'code_received') {
    return {
      status: 'completed',
      code: order.code,
      sms_content: `Your ${order.project.name} verification code is ${order.code}`,
    };
  }
  if (state === 'expired') return { status: 'expired', message: 'Number expired without a code' };
  return { status: 'waiting', message: 'Waiting for code' };
}

export function smsStatus({ world, account, fields, now }: ActionContext): Json {
  const order = ownOrder(world.smsOrders, account, fields);
  const state = smsState(order, now);
  return {
    status: order.rawStatus ?? caseStatus(state, world.quirks),
    phone: order.phone,
    code: state === 'code_received' ? order.code : null,
    charge: world.flavour.smsMoney(order.charge),
    currency: account.currency,
    expires_at: new Date(order.expiresAt).toISOString(),
  };
}
