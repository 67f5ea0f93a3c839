import { builder } from './builder.ts';
import './scalars.ts';
import './balance.ts';
import './service.ts';
import './category.ts';
import './order.ts';
import './sms.ts';
import './ledger.ts';
import './me.ts';
import './refill.ts';
import './cancel.ts';
import './events.ts';
import './webhooks.ts';

export const schema = builder.toSchema({ sortSchema: false });
