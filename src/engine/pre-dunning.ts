import type { Clock } from '../clock.ts';
import { planPreDunning } from '../domain/pre-dunning.ts';
import type { Db } from '../store/db.ts';
import { queueEmails } from '../store/emails-queue.ts';
import { dueChecks, insertChecks, paidPaymentsToCheck, type DueCheck } from '../store/pre-dunning.ts';
import type { GatewayResolver } from './run-attempts.ts';

// Pre-dunning: each customer's latest paid payment is checked once — will its card (its expiry as
// the gateway describes it: the sandbox's cards, Stripe's card details) expire before the next
// expected payment (domain/pre-dunning.ts)? If so, on the payment's clock, 14 days ahead, a
// `card_expiring` email is queued like any other dunning email (store/emails-queue.ts) — unless the
// card was replaced meanwhile: Stripe's account updater reported a new card for it, the gateway's
// updater has one, or the customer paid since with another method. Run by the worker (at most once
// a minute) and by each GET /api/cron/dunning.

export interface PreDunningDeps {
  db: Db;
  clock: Clock;
  gatewayFor: GatewayResolver;
}

const BATCH = 500;

/** Checks new paid payments and settles the due checks; returns how many emails it queued. */
export async function runPreDunning(d: PreDunningDeps): Promise<number> {
  await checkNewPayments(d);
  let queued = 0;
  for (const due of await dueChecks(d.db, d.clock.now(), BATCH)) if (await settle(d, due)) queued++;
  return queued;
}

async function checkNewPayments(d: PreDunningDeps): Promise<void> {
  const paid = await paidPaymentsToCheck(d.db, BATCH);
  const rows = [];
  for (const p of paid) {
    const card = (await d.gatewayFor(p.account_id, p.livemode, p.gateway)).describeCard(p.payment_method);
    const plan = planPreDunning(card, p.paid_at);
    rows.push({
      account_id: p.account_id,
      payment_id: p.id,
      livemode: p.livemode,
      test_clock: p.test_clock,
      send_at: plan?.sendAt ?? null,
      next_payment_at: plan?.nextPaymentAt ?? null,
      card_expires_at: plan?.cardExpiresAt ?? null,
      checked_at: d.clock.now(),
    });
  }
  await insertChecks(d.db, rows);
}

/** Queues the email or records why not, once: the row lock and `done_at` make a second settle a no-op. */
async function settle(d: PreDunningDeps, due: DueCheck): Promise<boolean> {
  const payment = await d.db.selectFrom('payments').select(['payment_method', 'customer_id', 'seq']).where('account_id', '=', due.account_id).where('id', '=', due.payment_id).executeTakeFirstOrThrow();
  const last = await d.db.selectFrom('attempts').select('gateway').where('account_id', '=', due.account_id).where('payment_id', '=', due.payment_id).orderBy('number', 'desc').executeTakeFirst();
  const gateway = await d.gatewayFor(due.account_id, due.livemode, last?.gateway ?? null);
  const card = gateway.describeCard(payment.payment_method);
  return d.db.transaction().execute(async (tx) => {
    const check = await tx
      .selectFrom('card_expiry_checks')
      .selectAll()
      .where('account_id', '=', due.account_id)
      .where('payment_id', '=', due.payment_id)
      .where('done_at', 'is', null)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (!check) return false;
    const stripeReplaced = await tx
      .selectFrom('stripe_card_updates')
      .select('payment_method')
      .where('account_id', '=', due.account_id)
      .where('livemode', '=', due.livemode)
      .where('payment_method', '=', payment.payment_method)
      .where('exp_year', 'is not', null)
      .where((eb) => eb.or([eb('exp_year', '>', card.expYear ?? 0), eb.and([eb('exp_year', '=', card.expYear ?? 0), eb('exp_month', '>', card.expMonth ?? 0)])]))
      .executeTakeFirst();
    const paidSinceWithAnother = payment.customer_id
      ? await tx
          .selectFrom('payments')
          .select('id')
          .where('account_id', '=', due.account_id)
          .where('customer_id', '=', payment.customer_id)
          .where('status', '=', 'succeeded')
          .where('seq', '>', payment.seq)
          .where('payment_method', '!=', payment.payment_method)
          .executeTakeFirst()
      : undefined;
    const replaced = Boolean(stripeReplaced || paidSinceWithAnother || gateway.accountUpdater(payment.payment_method, due.now));
    if (!replaced && card.expMonth && card.expYear && check.next_payment_at) {
      await queueEmails(tx, [{ accountId: due.account_id, paymentId: due.payment_id, kind: 'card_expiring', at: due.now, expiring: { last4: card.last4, expMonth: card.expMonth, expYear: card.expYear, nextPaymentAt: check.next_payment_at } }]);
    }
    await tx
      .updateTable('card_expiry_checks')
      .set({ done_at: due.now, outcome: replaced ? 'card_replaced' : 'queued' })
      .where('account_id', '=', due.account_id)
      .where('payment_id', '=', due.payment_id)
      .execute();
    return !replaced;
  });
}
