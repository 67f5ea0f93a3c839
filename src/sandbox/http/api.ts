import { FAMILY_ACTIONS } from '../api-level.ts';
import { ERRORS, SupplierError } from '../errors.ts';
import { cancel } from '../smm/cancel-action.ts';
import { categories, inventory, services } from '../smm/catalogue-actions.ts';
import { add, balance, status } from '../smm/order-actions.ts';
import { refill, refillStatus } from '../smm/refill-actions.ts';
import { addSms, smsCode, smsCountries, smsProjects, smsStatus } from '../sms/actions.ts';
import { settleDue, type ActionContext, type World } from '../world/world.ts';
import type { Fields, Json } from './form.ts';

type Action = (context: ActionContext) => Json;

/** An API answer: its HTTP status and its JSON body. */
export interface ApiAnswer {
  status: number;
  body: Json;
}

/**
 * Every action of the supplier's page, then the family's beyond it (unknown to a `basic` supplier);
 * the flavour may lack some of them too.
 */
const ACTIONS = new Map<string, Action>([
  ['categories', categories],
  ['services', services],
  ['inventory', inventory],
  ['add', add],
  ['status', status],
  ['balance', balance],
  ['sms_projects', smsProjects],
  ['sms_countries', smsCountries],
  ['add_sms', addSms],
  ['sms_code', smsCode],
  ['sms_status', smsStatus],
  ['refill', refill],
  ['refill_status', refillStatus],
  ['cancel', cancel],
]);

/** Answers one API request. The key is checked before the action, as real panels do. */
export function dispatch(world: World, fields: Fields): ApiAnswer {
  const now = settleDue(world);
  const account = world.accounts.get(fields.get('key') ?? '');
  if (!account) return refusal(world, ERRORS.invalidKey);
  const name = fields.get('action') ?? '';
  const missing = world.flavour.missingActions.has(name) || (world.api === 'basic' && FAMILY_ACTIONS.has(name));
  const action = missing ? undefined : ACTIONS.get(name);
  if (!action) return refusal(world, ERRORS.invalidAction);
  try {
    return { status: 200, body: action({ world, account, fields, now }) };
  } catch (error) {
    if (error instanceof SupplierError) return refusal(world, error.message);
    throw error;
  }
}

function refusal(world: World, error: string): ApiAnswer {
  const said = world.flavour.refuse(error);
  return { status: said.status, body: { error: said.error } };
}
