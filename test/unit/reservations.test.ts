/** Balance reservations: an estimate is held until a balance read that started after its spend ended. */
import { describe, expect, it } from 'vitest';
import { Reservations } from '../../src/placement/reservations.ts';

const usd = (amount: string) => ({ amount, currency: 'USD' });

describe('Reservations', () => {
  it('holds estimates of spends in flight against one balance read', () => {
    const reservations = new Reservations(() => 1000);
    reservations.hold('t', usd('10'), 900, '4', 'The order costs');
    reservations.hold('t', usd('10'), 900, '4', 'The order costs');
    expect(() => reservations.hold('t', usd('10'), 900, '4', 'The order costs')).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_BALANCE' }),
    );
    expect(() => reservations.hold('other', usd('10'), 900, '4', 'The order costs')).not.toThrow();
  });

  it('releases a hold whose spend placed nothing, and counts a charged one until a later read shows it', () => {
    let now = 1000;
    const reservations = new Reservations(() => now);
    const refused = reservations.hold('t', usd('10'), 900, '6', 'The order costs');
    refused.end(false);
    const charged = reservations.hold('t', usd('10'), 900, '6', 'The order costs');
    now = 2000;
    charged.end(true);
    // A read from before the spend ended does not show its charge: the hold still counts.
    expect(() => reservations.hold('t', usd('10'), 1500, '6', 'The order costs')).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_BALANCE' }),
    );
    // A read that started after it shows the charge itself (the balance is then 4).
    expect(() => reservations.hold('t', usd('4'), 2500, '4', 'The order costs')).not.toThrow();
  });
});
