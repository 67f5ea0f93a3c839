/**
 * Placing orders and renting numbers: everything the gateway can check before money is spent,
 * cheapest first, then the one call that spends it, then what that spend made stale.
 */
import { GatewayError, badInput } from './errors.ts';
import type { Loaders } from './loaders.ts';
import { ensureCovers, estimateCharge, times } from './money.ts';
import type { Supplier } from './supplier.ts';
import type { NewOrder, NewSmsOrder, SmsOrderState } from './types.ts';

interface Spender {
  supplier: Supplier;
  loaders: Loaders;
}

/** Checks the service, quantity, link, stock and balance, then places the order; resolves to its id. */
export async function placeOrder({ supplier, loaders }: Spender, order: NewOrder): Promise<string> {
  const service = await loaders.service.load(order.serviceId);
  if (!service) throw new GatewayError('NOT_FOUND', `Service ${order.serviceId} not found.`, { extensions: { field: 'serviceId' } });
  if (order.quantity < service.min || order.quantity > service.max) {
    throw badInput(`quantity must be from ${service.min} to ${service.max} for service ${service.id}, got ${order.quantity}.`, { field: 'quantity' });
  }
  if (service.entityType === 'SMM' && !order.link) throw badInput(`link is required for SMM service ${service.id}.`, { field: 'link' });
  const estimate = estimateCharge(service, order.quantity);
  const [inventory, balance] = await Promise.all([
    service.entityType === 'PRODUCT' ? loaders.inventory.load(service.id) : undefined,
    loaders.balance(),
  ]);
  if (inventory && (!inventory.available || inventory.stock < order.quantity)) {
    throw new GatewayError('OUT_OF_STOCK', `Only ${inventory.stock} in stock for service ${service.id}.`, { extensions: { stock: inventory.stock } });
  }
  ensureCovers(balance, estimate, 'The order costs');
  try {
    return await supplier.addOrder(order);
  } finally {
    loaders.spent(service.id);
  }
}

/** Checks the project, its country and the balance, then rents the numbers. */
export async function rentNumbers({ supplier, loaders }: Spender, order: NewSmsOrder): Promise<SmsOrderState[]> {
  const [projects, balance] = await Promise.all([supplier.smsProjects(), loaders.balance()]);
  const project = projects.find((candidate) => candidate.id === order.projectId);
  if (!project) throw new GatewayError('NOT_FOUND', `SMS project ${order.projectId} not found.`, { extensions: { field: 'projectId' } });
  if (order.country && order.country !== project.countryCode) {
    throw badInput(`SMS project ${project.id} is for country ${project.countryCode}, not ${order.country}.`, { field: 'country' });
  }
  ensureCovers(balance, times(project.price, order.quantity), 'The numbers cost');
  try {
    return await supplier.addSms(order, { amount: project.price, currency: balance.currency });
  } finally {
    loaders.spent();
  }
}
