import { ERRORS, SupplierError } from '../errors.ts';
import { categories, inventory, services } from '../smm/catalogue-actions.ts';
import { add, balance, status } from '../smm/order-actions.ts';
import { addSms, smsCode, smsCountries, smsProjects, smsStatus } from '../sms/actions.ts';
import { settleDue, type ActionContext, type World } from '../world/world.ts';
import type { Fields, Json } from './form.ts';

type Action = (context: ActionContext) => Json;

/** Every action of the supplier's page, and nothing more: the wider standard's actions are Invalid action here. */
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
]);

/** Answers one API request. The key is checked before the action, as real panels do. */
export function dispatch(world: World, fields: Fields): Json {
  const now = settleDue(world);
  const account = world.accounts.get(fields.get('key') ?? '');
  if (!account) return { error: ERRORS.invalidKey };
  const action = ACTIONS.get(fields.get('action') ?? '');
  if (!action) return { error: ERRORS.invalidAction };
  try {
    return action({ world, account, fields, now });
  } catch (error) {
    if (error instanceof SupplierError) return { error: error.message };
    throw error;
  }
}
