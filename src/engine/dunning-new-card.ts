import { RescueError } from '../errors.ts';
import { routeToken } from '../domain/gateway-routing.ts';
import type { Db } from '../store/db.ts';
import { applyLifecycleIn } from '../store/lifecycle-writes.ts';
import type { Scope } from '../store/payments.ts';
import { getSettings } from '../store/settings.ts';
import type { Clock } from '../clock.ts';
import type { GatewayResolver } from './run-attempts.ts';
import { MAX_METHOD_UPDATES, newCard, type NewMethodOutcome as LifecycleOutcome } from './lifecycle.ts';
import { nowFor } from './payments.ts';

// A customer gave a new payment method (the update-payment page, or the merchant's own page
// reporting it through the API). It becomes the payment's method and the card-updated signal, and:
// - in an active rescue, the next planned retry moves to the earliest allowed moment (the minimum
//   gap, outside quiet hours) on the new card — no retry is added, the budget stays;
// - on a payment that failed (its rescue exhausted, or a hard decline that never started one), it
//   reopens exactly ONE retry on the new card, once per payment: the new card's own budget, as a
//   fallback card gets its own (docs/decisions.md, Dunning);
// - otherwise (paid, cancelled, outside Auto Rescue) nothing is charged.
// Network limits are checked when the retry runs, on the new card. Everything happens under a lock
// on the payment row, so a double submit finds the retry already moved and changes nothing: one
// planned attempt, one charge. The transition itself is `newCard` (engine/lifecycle.ts); a reopen
// writes payment.rescue_started.

export type NewMethodOutcome = Exclude<LifecycleOutcome, { kind: 'limit_reached' }>;

export interface NewMethodDeps {
  db: Db;
  clock: Clock;
  gatewayFor: GatewayResolver;
}

export { MAX_METHOD_UPDATES };

export async function applyNewPaymentMethod(d: NewMethodDeps, scope: Scope, paymentId: string, o: { paymentMethod: string; source: 'hosted_page' | 'api' }): Promise<NewMethodOutcome> {
  const head = await d.db.selectFrom('payments').select(['test_clock']).where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', '=', paymentId).executeTakeFirst();
  if (!head) throw new RescueError('resource_missing', `No such payment: '${paymentId}'`);
  const now = await nowFor(d, scope, head.test_clock);
  const settings = await getSettings(d.db, scope.accountId, scope.livemode);
  const route = routeToken(o.paymentMethod, null, settings.gateways.map((g) => ({ name: g.name, tokenPrefixes: g.tokenPrefixes })));
  const card = (await d.gatewayFor(scope.accountId, scope.livemode, route.gateway)).describeCard(o.paymentMethod);

  return d.db.transaction().execute(async (tx) => {
    const payment = await tx.selectFrom('payments').selectAll().where('account_id', '=', scope.accountId).where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
    const rescue = await tx.selectFrom('rescues').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).executeTakeFirst();
    const customer = payment.customer_id
      ? await tx.selectFrom('customers').select(['timezone']).where('account_id', '=', scope.accountId).where('id', '=', payment.customer_id).executeTakeFirst()
      : undefined;
    const planned = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).where('status', '=', 'planned').orderBy('number').executeTakeFirst();
    const last = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).orderBy('number', 'desc').executeTakeFirst();
    const previous = await tx.selectFrom('payment_method_updates').select(['outcome']).where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).execute();
    const { outcome, change } = newCard(
      { payment, rescue: rescue ?? null, timezone: customer?.timezone ?? 'UTC', planned: planned ?? null, last: last ?? null, previous },
      { paymentMethod: o.paymentMethod, source: o.source, gateway: route.gateway, card },
      now,
    );
    if (outcome.kind === 'limit_reached') {
      throw new RescueError('payment_method_update_limit', `Payment ${paymentId} already took ${MAX_METHOD_UPDATES} new payment methods; ask the customer to contact the merchant.`, 'payment_method');
    }
    await applyLifecycleIn(tx, change);
    return outcome;
  });
}
