import Stripe from 'stripe';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import type { StripeBackfillRow } from '../store/schema.ts';
import { finishBackfill, getStripeConnection, saveBackfillProgress } from '../store/stripe.ts';
import type { StripeSettings } from './client.ts';
import { StripeReconnectNeeded, withConnection } from './connected-stripe.ts';
import type { Keyring } from './crypto.ts';
import { cardFacts, invoiceFacts, toDate } from './objects.ts';
import { ANSWER_LIMITS, cleanOptionalText } from '../gateways/answer-text.ts';

// The import on connect: the last 12 months of invoices, charges and subscriptions, through the
// SDK's auto-pagination, into the history tables the prediction models read. A worker job: one
// object type of one account at a time, claimed with a lease; the cursor (the last id imported) is
// saved after every page, so a crash or a rate limit resumes where it stopped, never from the start.

export const BACKFILL_MONTHS = 12;
const PAGE = 100;
/** Objects one round imports before it lets other work run (the import continues next round). */
const PER_ROUND = 2_000;
const MAX_FAILURES = 8;

export interface BackfillDeps {
  db: Db;
  clock: Clock;
  ring: Keyring;
  stripe: StripeSettings;
  log: Logger;
  leaseMs: number;
}

/** Backoff after a rate limit or an error: 2 s doubling to 5 min. */
export function backfillDelayMs(failures: number): number {
  return Math.min(300_000, 2_000 * 2 ** Math.max(0, failures));
}

/** Runs an import this worker claimed (store/stripe.ts#dueBackfills) for a while; returns how many objects it imported. */
export async function importBackfill(d: BackfillDeps, workerId: string, job: StripeBackfillRow, now: Date): Promise<number> {
  const conn = await getStripeConnection(d.db, d.ring, { accountId: job.account_id, livemode: job.livemode });
  if (!conn || conn.status !== 'connected' || !conn.secretKey) {
    await finishBackfill(d.db, job, workerId, { status: 'failed', at: now, error: conn?.status === 'needs_reconnect' ? 'Stripe needs reconnecting' : 'Stripe is not connected' });
    return 0;
  }
  let imported = 0;
  let cursor = job.cursor;
  let page: Record<string, unknown>[] = [];
  const flush = async (): Promise<boolean> => {
    if (page.length === 0) return true;
    const last = page.at(-1)!.id as string;
    // The objects and the cursor move together: a crash re-imports nothing and skips nothing.
    const ours = await d.db.transaction().execute(async (tx) => {
      await importObjects(tx as unknown as Db, job, page, d.clock.now());
      return saveBackfillProgress(tx, job, workerId, last, page.length, new Date(d.clock.now().getTime() + d.leaseMs));
    });
    imported += page.length;
    cursor = last;
    page = [];
    return ours;
  };
  // One pass from the saved cursor; 'lost' when another worker took the import over.
  const importPages = async (stripe: Stripe): Promise<'done' | 'more' | 'lost'> => {
    const params = { limit: PAGE, created: { gte: Math.floor(job.since.getTime() / 1000) }, ...(cursor ? { starting_after: cursor } : {}) };
    for await (const obj of listFor(stripe, job.object_type, params)) {
      page.push(obj as unknown as Record<string, unknown>);
      if (page.length >= PAGE) {
        if (!(await flush())) return 'lost';
        if (imported >= PER_ROUND) return 'more';
      }
    }
    return (await flush()) ? 'done' : 'lost';
  };
  try {
    // A refused token is refreshed once and the import goes on from the cursor it reached.
    const result = await withConnection(d, conn, now, async (_c, stripe) => {
      page = [];
      return importPages(stripe);
    });
    if (result !== 'lost') await finishBackfill(d.db, job, workerId, result === 'more' ? { status: 'pending', at: d.clock.now() } : { status: 'done', at: d.clock.now() });
  } catch (err) {
    if (err instanceof StripeReconnectNeeded) {
      await finishBackfill(d.db, job, workerId, { status: 'failed', at: d.clock.now(), error: err.message });
      return imported;
    }
    await flush().catch(() => false);
    const rateLimited = err instanceof Stripe.errors.StripeRateLimitError;
    const failures = job.failures + 1;
    const at = d.clock.now();
    d.log.warn({ err, account: job.account_id, object: job.object_type, rateLimited }, 'Stripe backfill paused');
    if (!rateLimited && failures >= MAX_FAILURES) {
      await finishBackfill(d.db, job, workerId, { status: 'failed', at, error: (err as Error).message, failed: true });
    } else {
      await finishBackfill(d.db, job, workerId, { status: 'pending', at, nextRunAt: new Date(at.getTime() + backfillDelayMs(job.failures)), error: `${rateLimited ? 'rate limited: ' : ''}${(err as Error).message}`, failed: true });
    }
  }
  return imported;
}

function listFor(stripe: Stripe, type: StripeBackfillRow['object_type'], params: { limit: number; created: { gte: number }; starting_after?: string }) {
  switch (type) {
    case 'invoices':
      return stripe.invoices.list(params);
    case 'charges':
      return stripe.charges.list(params);
    case 'subscriptions':
      // Canceled subscriptions too: they are the churn labels.
      return stripe.subscriptions.list({ ...params, status: 'all' });
  }
}

async function importObjects(db: Db, job: StripeBackfillRow, objects: Record<string, unknown>[], at: Date): Promise<void> {
  const key = { account_id: job.account_id, livemode: job.livemode };
  for (const o of objects) {
    if (job.object_type === 'invoices') {
      const inv = invoiceFacts(o as unknown as Stripe.Invoice);
      const values = { stripe_customer_id: inv.customer, subscription_id: inv.subscription, status: inv.status, amount_due: inv.amountDue, amount_paid: inv.amountPaid, currency: inv.currency, attempt_count: inv.attemptCount, billing_reason: inv.billingReason, paid_at: inv.paidAt, updated_at: at };
      await db
        .insertInto('stripe_invoices')
        .values({ ...key, invoice_id: inv.id, created_at: inv.created, payment_id: null, ...values })
        .onConflict((oc) => oc.columns(['account_id', 'livemode', 'invoice_id']).doUpdateSet(values))
        .execute();
    } else if (job.object_type === 'charges') {
      const ch = o as unknown as Stripe.Charge;
      const card = cardFacts(ch.payment_method_details?.card);
      const values = {
        stripe_customer_id: typeof ch.customer === 'string' ? ch.customer : (ch.customer?.id ?? null),
        invoice_id: null,
        payment_intent_id: typeof ch.payment_intent === 'string' ? ch.payment_intent : (ch.payment_intent?.id ?? null),
        amount: ch.amount,
        currency: ch.currency.toUpperCase(),
        status: ch.status,
        // Decline facts are stored as Stripe gave them, made storable (answer-text.ts).
        failure_code: cleanOptionalText(ch.failure_code ?? null, ANSWER_LIMITS.code),
        decline_code: cleanOptionalText(ch.outcome?.reason ?? ch.failure_code ?? null, ANSWER_LIMITS.code),
        advice_code: cleanOptionalText(ch.outcome?.network_advice_code ?? ch.outcome?.advice_code ?? null, ANSWER_LIMITS.code),
        card_brand: card?.brand ?? null,
        card_country: card?.country ?? null,
        card_funding: card?.funding ?? null,
        card_wallet: card?.wallet ?? null,
        card_fingerprint: card?.fingerprint ?? null,
      };
      await db
        .insertInto('stripe_charges')
        .values({ ...key, charge_id: ch.id, created_at: toDate(ch.created)!, ...values })
        .onConflict((oc) => oc.columns(['account_id', 'livemode', 'charge_id']).doUpdateSet(values))
        .execute();
    } else {
      const sub = o as unknown as Stripe.Subscription;
      const ended = toDate(sub.ended_at);
      const values = {
        stripe_customer_id: typeof sub.customer === 'string' ? sub.customer : sub.customer.id,
        status: sub.status,
        canceled_at: toDate(sub.canceled_at),
        ended_at: ended,
        cancellation_reason: sub.cancellation_details?.reason ?? null,
        churned_at: sub.status === 'canceled' ? (ended ?? toDate(sub.canceled_at)) : null,
        updated_at: at,
      };
      await db
        .insertInto('stripe_subscriptions')
        .values({ ...key, subscription_id: sub.id, created_at: toDate(sub.created)!, ...values })
        .onConflict((oc) => oc.columns(['account_id', 'livemode', 'subscription_id']).doUpdateSet(values))
        .execute();
    }
  }
}
