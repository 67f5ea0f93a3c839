import type { Inventory as InventoryShape } from '../datasources/types.ts';
import { builder } from './builder.ts';
import { EntityType } from './scalars.ts';

export const Inventory = builder.objectRef<InventoryShape>('Inventory').implement({
  description: "Live stock of a service, as the supplier's inventory action reports it.",
  fields: (t) => ({
    serviceId: t.exposeID('serviceId'),
    stock: t.exposeInt('stock'),
    available: t.exposeBoolean('available'),
    entityType: t.field({ type: EntityType, resolve: (inventory) => inventory.entityType }),
    autoDelivery: t.exposeBoolean('autoDelivery'),
  }),
});
