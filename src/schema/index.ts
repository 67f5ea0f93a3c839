import { builder } from './builder.ts';
import './scalars.ts';
import './service.ts';
import './category.ts';
import './order.ts';
import './balance.ts';
import './sms.ts';
import './subscription.ts';

export const schema = builder.toSchema({ sortSchema: false });
