import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { routeToken } from '../domain/gateway-routing.ts';
import { windowEnd } from '../domain/rescue.ts';
import { firstChargeAt } from '../domain/schedule-policy.ts';
import { RescueError } from '../errors.ts';
import { randomString } from '../ids.ts';
import type { Db } from '../store/db.ts';
import type { PlannedRetry } from '../store/schema.ts';
import type { Scope } from '../store/payments.ts';
import { getSettings } from '../store/settings.ts';
import type { Clock } from '../clock.ts';
import type { GatewayResolver } from './run-attempts.ts';
import { nextAttemptRow } from './outcome.ts';
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
// planned attempt, one charge.

export type NewMethodOutcome =
  | { kind: 'retry_moved'; retryAt: Date }
  | { kind: 'reopened'; retryAt: Date }
  | { kind: 'saved' }
  | { kind: 'already_paid' }
  | { kind: 'in_progress' }
  | { kind: 'closed' };

export interface NewMethodDeps {
  db: Db;
  clock: Clock;
  gatewayFor: GatewayResolver;
}

/** Updates a payment may take; beyond this the page refuses, so a leaked link cannot test cards. */
export const MAX_METHOD_UPDATES = 5;

export async function applyNewPaymentMethod(d: NewMethodDeps, scope: Scope, paymentId: string, o: { paymentMethod: string; source: 'hosted_page' | 'api' }): Promise<NewMethodOutcome> {
  const head = await d.db.selectFrom('payments').select(['test_clock']).where('account_id', '=', scope.accountId).where('livemode', '=', scope.livemode).where('id', '=', paymentId).executeTakeFirst();
  if (!head) throw new RescueError('resource_missing', `No such payment: '${paymentId}'`);
  const now = await nowFor(d, scope, head.test_clock);
  const settings = await getSettings(d.db, scope.accountId, scope.livemode);
  const route = routeToken(o.paymentMethod, null, settings.gateways.map((g) => ({ name: g.name, tokenPrefixes: g.tokenPrefixes })));
  const card = (await d.gatewayFor(scope.accountId, scope.livemode, route.gateway)).describeCard(o.paymentMethod);

  return d.db.transaction().execute(async (tx) => {
    const payment = await tx.selectFrom('payments').selectAll().where('account_id', '=', scope.accountId).where('id', '=', paymentId).forUpdate().executeTakeFirstOrThrow();
    if (payment.status === 'succeeded') return { kind: 'already_paid' as const };
    if (payment.status === 'processing' || payment.status === 'rescue_in_progress') return { kind: 'in_progress' as const };
    if (payment.status === 'rescue_cancelled') return { kind: 'closed' as const };
    const rescue = await tx.selectFrom('rescues').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).executeTakeFirst();
    const customer = payment.customer_id
      ? await tx.selectFrom('customers').select(['timezone']).where('account_id', '=', scope.accountId).where('id', '=', payment.customer_id).executeTakeFirst()
      : undefined;
    const retryAt = firstChargeAt(now, customer?.timezone ?? 'UTC');
    const planned = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).where('status', '=', 'planned').orderBy('number').executeTakeFirst();
    const previous = await tx.selectFrom('payment_method_updates').select(['outcome', 'payment_method']).where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).execute();

    // The same method again (a double submit, a reload): what the first submit did stands.
    if (planned && planned.card_was_updated && payment.payment_method === o.paymentMethod) return { kind: 'retry_moved' as const, retryAt: planned.planned_at };
    if (previous.length >= MAX_METHOD_UPDATES) {
      throw new RescueError('payment_method_update_limit', `Payment ${paymentId} already took ${MAX_METHOD_UPDATES} new payment methods; ask the customer to contact the merchant.`, 'payment_method');
    }
    const cardColumns = { card_fingerprint: card.fingerprint, card_brand: card.brand, card_last4: card.last4, card_funding: card.funding, card_country: card.country, card_was_updated: true, gateway: route.gateway };
    const record = async (outcome: 'retry_moved' | 'reopened' | 'saved') => {
      await tx.updateTable('payments').set({ payment_method: o.paymentMethod, updated_at: now }).where('account_id', '=', scope.accountId).where('id', '=', paymentId).execute();
      await tx
        .insertInto('payment_method_updates')
        .values({ id: `pmu_${randomString(24)}`, account_id: scope.accountId, livemode: scope.livemode, payment_id: paymentId, payment_method: o.paymentMethod, card_fingerprint: card.fingerprint, source: o.source, outcome, created_at: now })
        .execute();
    };

    if (payment.status === 'requires_rescue' && rescue?.status === 'active') {
      if (!planned) return { kind: 'in_progress' as const };
      const at = retryAt.getTime() < planned.planned_at.getTime() ? retryAt : planned.planned_at;
      await tx.updateTable('attempts').set({ ...cardColumns, planned_at: at }).where('account_id', '=', scope.accountId).where('id', '=', planned.id).where('status', '=', 'planned').execute();
      // scheduled_retries shows the moved retry; later ones stay as planned.
      const shown = (rescue.schedule as PlannedRetry[]).map((r, i) => (i === 0 ? { ...r, scheduled_at: at.toISOString() } : r));
      await tx.updateTable('rescues').set({ schedule: JSON.stringify(shown) }).where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).execute();
      await record('retry_moved');
      return { kind: 'retry_moved' as const, retryAt: at };
    }

    const policy = payment.rescue_policy as RescuePolicy | null;
    if (payment.status !== 'failed' || (!rescue && !policy)) return { kind: 'closed' as const };
    if (previous.some((u) => u.outcome === 'reopened')) {
      await record('saved');
      return { kind: 'saved' as const };
    }
    const last = await tx.selectFrom('attempts').selectAll().where('account_id', '=', scope.accountId).where('payment_id', '=', paymentId).orderBy('number', 'desc').executeTakeFirstOrThrow();
    const schedule = (made: number) => JSON.stringify([{ retry_number: made + 1, scheduled_at: retryAt.toISOString() }]);
    if (rescue) {
      // One retry on the new card: its budget starts where the rescue stands (like a fallback's).
      await tx
        .updateTable('rescues')
        .set({
          status: 'active',
          end_reason: null,
          ended_at: null,
          max_retries: rescue.retries_made + 1 - rescue.method_retries_base,
          schedule: schedule(rescue.retries_made),
          method_started_at: now,
          window_ends_at: new Date(Math.max(rescue.window_ends_at.getTime(), retryAt.getTime() + 86_400_000)),
        })
        .where('account_id', '=', scope.accountId)
        .where('payment_id', '=', paymentId)
        .execute();
    } else {
      await tx
        .insertInto('rescues')
        .values({
          payment_id: paymentId,
          account_id: scope.accountId,
          status: 'active',
          max_retries: 1,
          retry_window_days: policy!.retryWindowDays,
          window_ends_at: windowEnd(now, policy!.retryWindowDays),
          retry_schedule: policy!.schedule.kind,
          custom_schedule_days: JSON.stringify(policy!.schedule.kind === 'custom' ? policy!.schedule.days : null),
          notify_customer: policy!.notifyCustomer,
          check_account_updater: policy!.checkAccountUpdater,
          retries_made: 0,
          schedule: schedule(0),
          end_reason: null,
          started_at: now,
          ended_at: null,
        })
        .execute();
    }
    await tx.insertInto('attempts').values({ ...nextAttemptRow(last, retryAt), ...cardColumns, payment_method_type: 'card' }).execute();
    await tx.updateTable('payments').set({ status: 'requires_rescue' }).where('account_id', '=', scope.accountId).where('id', '=', paymentId).execute();
    await record('reopened');
    return { kind: 'reopened' as const, retryAt };
  });
}
