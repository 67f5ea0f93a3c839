/**
 * Rules about the states of orders and SMS orders, kept once below the schema so that queries,
 * mutations and subscriptions agree on them.
 */
import type DataLoader from 'dataloader';
import type { Loaders } from './loaders.ts';
import type { OrderState, OrderStatus, RefillState, RefillStatus, SmsOrderState, SmsOrderStatus } from './types.ts';

const FINAL_ORDER_STATUSES: ReadonlySet<OrderStatus> = new Set(['COMPLETED', 'PARTIAL', 'CANCELED']);

const FINAL_SMS_STATUSES: ReadonlySet<SmsOrderStatus> = new Set(['CODE_RECEIVED', 'COMPLETED', 'CANCELED', 'EXPIRED']);

const FINAL_REFILL_STATUSES: ReadonlySet<RefillStatus> = new Set(['COMPLETED', 'REJECTED']);

/** COMPLETED and REJECTED: the refill will not change again. */
export const isFinalRefill = (state: Pick<RefillState, 'status'>) => FINAL_REFILL_STATUSES.has(state.status);

/** COMPLETED, PARTIAL and CANCELED: the order will not change again. */
export const isFinalOrder = (state: Pick<OrderState, 'status'>) => FINAL_ORDER_STATUSES.has(state.status);

/** An SMS order is done once a code has arrived, whatever its status says, or once it ended. */
export const isFinalSms = (state: Pick<SmsOrderState, 'status' | 'code'>) => FINAL_SMS_STATUSES.has(state.status) || state.code !== null;

/**
 * The text of the SMS. `sms_status` may carry the code without the message; then `sms_code` has
 * it, and is asked only once a code is there.
 */
export async function smsMessage(state: Pick<SmsOrderState, 'id' | 'code' | 'smsContent'>, loaders: Loaders): Promise<string | null> {
  if (state.smsContent !== null || state.code === null) return state.smsContent;
  return (await loaders.smsCode.load(state.id)).smsContent;
}

/**
 * An order or SMS order by id, with what the supplier last said of it. A state read from the
 * status action is whole. A placement answer is `partial`: it says less than the status action
 * (`add_sms` gives no expiry), so a field it leaves null is read from the status, once per request.
 */
export interface StateRef<S extends object> {
  id: string;
  known?: S;
  partial?: boolean;
}

/** One field of the state, read from the status action only when the reference does not know it. */
export async function current<S extends object, K extends keyof S>(
  ref: StateRef<S>,
  field: K,
  status: DataLoader<string, S>,
): Promise<S[K]> {
  const known = ref.known;
  if (known !== undefined && (known[field] !== null || !ref.partial)) return known[field];
  return (await status.load(ref.id))[field];
}
