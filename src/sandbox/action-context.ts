import type { Account } from './accounts.ts';
import type { Json } from './json.ts';
import type { Fields } from './params.ts';
import type { World } from './world.ts';

export interface ActionContext {
  world: World;
  account: Account;
  fields: Fields;
  /** Sandbox time of this request, after everything due by then has settled. */
  now: number;
}

export type Action = (context: ActionContext) => Json;
