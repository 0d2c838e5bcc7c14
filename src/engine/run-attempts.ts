import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { checkNetworkRules, type CardAttemptRecord } from '../domain/network-rules.ts';
import type { ChargeOptions, ChargeRequest, ChargeResult, Gateway, NotSent } from '../gateways/gateway.ts';
import { announceRetries, handBackUnsent, loadAttemptContexts, loadCardHistory, loadLastDeclines, type AttemptContext, type CardAttemptRow, type DeclinedAttemptRow } from '../store/attempts.ts';
import { rescueRetry } from '../domain/events.ts';
import { applyBatchIsolated, type AttemptConsequences } from '../store/batch-writes.ts';
import type { Db } from '../store/db.ts';
import type { AttemptRow } from '../store/schema.ts';
import { getSettingsFor, settingsKey, type AccountSettings } from '../store/settings.ts';
import { consequencesOfCharge, endRescue, eventsAt, factsOf, type Charged } from './outcome.ts';
import { ridesNetworkToken } from '../domain/wallets.ts';
import { learnedContexts } from '../predict/planning.ts';
import { deadCardDecline, nextNewCardCheck, type LastDecline } from '../domain/dead-card.ts';
import type { DeclineInfo } from '../domain/decline-types.ts';
import type { PlannedRetry } from '../store/schema.ts';
import { moveToNextMethod } from './cascade.ts';
import { withAnsweredNewCard } from './answered-new-card.ts';

// Runs a batch of claimed attempts: a dead card waiting for a new card (domain/dead-card.ts), network
// rules, account updater, one gateway call per attempt (batched per gateway), then every consequence
// in one transaction.

/**
 * The gateway that charges an account's payments in a mode: its default one, or the named one an
 * attempt was routed to. `settings`: the account's settings in that mode, when the caller has read
 * them already (else the resolver reads them).
 */
export type GatewayResolver = (accountId: string, livemode: boolean, gateway?: string | null, settings?: AccountSettings) => Promise<Gateway>;

export interface RunDeps {
  db: Db;
  gatewayFor: GatewayResolver;
  /** Where an attempt whose consequences could not be written is reported (once per batch). */
  log?: { warn(obj: object, msg: string): void } | undefined;
  /**
   * Aborted when the worker stops: attempts not yet sent to their gateway are handed back (planned,
   * unclaimed) for another worker to take at once; those in flight are awaited (engine/worker.ts).
   */
  stopping?: AbortSignal | undefined;
}

export interface RunSummary {
  charged: number;
  succeeded: number;
  failed: number;
  postponed: number;
  skipped: number;
}

const THIRTY_DAYS_MS = 30 * 86_400_000;

/**
 * `timeOf` gives each attempt's instant: its own planned time on a test clock (so the attempt's
 * attempted_at is exactly when it was scheduled), the wall clock for real-time workers.
 */
export interface RunOptions {
  /**
   * The merchant ordered these retries (retry_now): a dead card is charged anyway, since the merchant
   * may know what Rescue cannot (the customer changed the card in Stripe or in their app).
   */
  merchantAsked?: boolean;
  /**
   * The attempts' contexts (by payment id) when the caller has them already — the payment, rescue and
   * customer rows it has just written (POST /v2/payments) — instead of reading them again. Only for
   * every attempt of the batch at once; otherwise they are read.
   */
  contexts?: ReadonlyMap<string, AttemptContext>;
  /** The accounts' settings (by `settingsKey`) when the caller has read them for this request; else read once for the batch. */
  settings?: ReadonlyMap<string, AccountSettings>;
}

export async function runAttempts(deps: RunDeps, attempts: readonly AttemptRow[], timeOf: (a: AttemptRow) => Date, o: RunOptions = {}): Promise<RunSummary> {
  const summary: RunSummary = { charged: 0, succeeded: 0, failed: 0, postponed: 0, skipped: 0 };
  if (attempts.length === 0) return summary;
  const given = o.contexts;
  // The batch's settings, read once (gateways and the learned planner both need them).
  const scopes = attempts.map((a) => ({ accountId: a.account_id, livemode: a.livemode }));
  // Independent reads, sent at once: the batch waits for the slowest, not the sum.
  const [contexts, settings, history, lastDeclines] = await Promise.all([
    given && attempts.every((a) => given.has(a.payment_id)) ? given : loadAttemptContexts(deps.db, attempts),
    o.settings && scopes.every((s) => o.settings!.has(settingsKey(s.accountId, s.livemode))) ? o.settings : getSettingsFor(deps.db, scopes),
    cardHistories(deps.db, attempts, timeOf),
    loadLastDeclines(deps.db, attempts),
  ]);
  const gateways = new Map<string, Gateway>();
  const consequences: AttemptConsequences[] = [];
  const toCharge: { gateway: Gateway; request: ChargeRequest; charged: Omit<Charged, 'result'> }[] = [];

  for (const attempt of attempts) {
    const ctx = contexts.get(attempt.payment_id);
    const at = timeOf(attempt);
    if (!ctx) continue;
    if (attempt.number > 1 && ctx.rescue?.status !== 'active') {
      consequences.push({ attempt: cancelled(attempt, at), payment: null, rescueInsert: null, rescueUpdate: null, nextAttempt: null });
      summary.skipped++;
      continue;
    }
    const gatewayKey = `${attempt.account_id}|${attempt.livemode}|${attempt.gateway ?? ''}`;
    let gateway = gateways.get(gatewayKey);
    if (!gateway) gateways.set(gatewayKey, (gateway = await deps.gatewayFor(attempt.account_id, attempt.livemode, attempt.gateway, settings.get(settingsKey(attempt.account_id, attempt.livemode)))));
    // The account updater is for stored card numbers; a wallet's network token is kept current by
    // the card network's token service, so asking (and paying) for an update would be wasted.
    const checkUpdater = attempt.number > 1 && (ctx.rescue?.check_account_updater ?? false) && !ridesNetworkToken(attempt.payment_method_type);
    let replacement: string | null | undefined;
    // A dead card is not charged again unchanged: without a replacement the retry waits for one.
    const dead = attempt.number > 1 && !o.merchantAsked ? deadCardDecline(lastDeclineOf(lastDeclines.get(attempt.id)), { fingerprint: attempt.card_fingerprint, cardWasUpdated: attempt.card_was_updated }) : null;
    if (dead) {
      replacement = checkUpdater ? gateway.accountUpdater(ctx.payment.payment_method, at) : null;
      if (replacement === null) {
        consequences.push(waitForNewCard(attempt, ctx, at, dead));
        summary.postponed++;
        continue;
      }
    }
    const cardKey = `${attempt.account_id}|${attempt.card_fingerprint}`;
    const cardHistory = history.get(cardKey) ?? [];
    if (attempt.number > 1) {
      const verdict = checkNetworkRules({ brand: attempt.card_brand as CardBrand, history: cardHistory, at });
      if (!verdict.allowed) {
        consequences.push(blockedByNetwork(attempt, ctx, at, verdict.retryAfter));
        summary.postponed++;
        continue;
      }
    }
    if (replacement === undefined) replacement = checkUpdater ? gateway.accountUpdater(ctx.payment.payment_method, at) : null;
    const paymentMethod = replacement ?? ctx.payment.payment_method;
    // Counted before the answer so two attempts on one card in the same batch see each other.
    cardHistory.push({ at, outcome: 'failed', initiator: 'merchant', reattempt: attempt.number > 1 });
    history.set(cardKey, cardHistory);
    toCharge.push({
      gateway,
      request: chargeRequest(attempt, ctx, at, paymentMethod),
      // A card-updater signal (a Stripe webhook) may have marked the planned attempt already.
      charged: { attempt, ctx, at, paymentMethod, accountUpdaterChecked: checkUpdater, cardWasUpdated: replacement !== null || attempt.card_was_updated },
    });
  }

  // Stopping before anything was sent: the whole batch goes back, no retry announced.
  const stoppedEarly = deps.stopping?.aborted ?? false;
  await announceRetries(
    deps.db,
    (stoppedEarly ? [] : toCharge)
      .filter(({ charged: c }) => c.attempt.number > 1 && c.attempt.announced_at === null && c.ctx.rescue)
      .map(({ charged: c }) => ({
        attemptId: c.attempt.id,
        accountId: c.attempt.account_id,
        claimedBy: c.attempt.claimed_by ?? '',
        at: c.at,
        accountUpdaterChecked: c.accountUpdaterChecked,
        cardWasUpdated: c.cardWasUpdated,
        event: eventsAt(c, [rescueRetry(factsOf(c.ctx), c.attempt.number - 1, c.ctx.rescue!.max_retries, c.accountUpdaterChecked, c.cardWasUpdated)])[0]!,
      })),
  );
  // What a stopping worker will not send is handed back as soon as the gateway knows, not after the
  // calls still in flight (which may never answer).
  const byAttempt = new Map(toCharge.map(({ charged: c }) => [c.attempt.id, c.attempt]));
  const handedBack: Promise<void>[] = [];
  const notSent = (requests: readonly ChargeRequest[]) => handedBack.push(handBackUnsent(deps.db, requests.map((r) => byAttempt.get(r.attemptId)!)));
  const answers: (ChargeResult | NotSent)[] = stoppedEarly ? toCharge.map(() => ({ status: 'not_sent' })) : await chargeGrouped(toCharge, { stopping: deps.stopping, notSent });
  const unsent = toCharge.filter((_, i) => answers[i]!.status === 'not_sent').map(({ charged: c }) => c.attempt);
  await Promise.all(handedBack);
  // Again for any the gateway did not report (a no-op for those it did: they are no longer claimed).
  if (unsent.length) await handBackUnsent(deps.db, unsent);
  const charged = toCharge.flatMap((item, i) => {
    const result = answers[i]!;
    return result.status === 'not_sent' ? [] : [{ item, result }];
  });
  // Declined attempts are replanned; an account on the learned schedule needs its model and the card's history.
  const learned = await learnedContexts(
    deps.db,
    charged.filter(({ result }) => result.status === 'failed').map(({ item: { charged: c } }) => ({ attempt: c.attempt, ctx: c.ctx, paymentMethod: c.paymentMethod })),
    { settings },
  );
  charged.forEach(({ item, result }) => {
    const out = consequencesOfCharge({ ...item.charged, result, learned: learned.get(item.charged.attempt.id) });
    const newCard = result.status === 'failed' ? result.updatedPaymentMethod : undefined;
    const { attempt, ctx, at } = item.charged;
    consequences.push(
      newCard
        ? withAnsweredNewCard(out, { attempt, at, timezone: ctx.customer?.timezone ?? 'UTC', token: newCard, card: item.gateway.describeCard(newCard) })
        : out,
    );
    summary.charged++;
    if (result.status === 'succeeded') summary.succeeded++;
    else if (result.status === 'failed') summary.failed++;
    else summary.postponed++;
  });
  // One item the database refuses fails only itself (batch-writes.ts): it stays claimed and is
  // reconciled under its idempotency key when its lease ends; the others are written.
  const { failed } = await applyBatchIsolated(deps.db, consequences);
  if (failed) {
    deps.log?.warn({ attempts: failed.attemptIds, accounts: failed.accountIds, error: failed.error }, 'attempt outcomes the database refused were left to be reconciled; the rest of the batch was written');
  }
  return summary;
}

async function chargeGrouped(items: readonly { gateway: Gateway; request: ChargeRequest }[], co: ChargeOptions): Promise<(ChargeResult | NotSent)[]> {
  const results: (ChargeResult | NotSent)[] = new Array(items.length);
  const groups = new Map<Gateway, number[]>();
  items.forEach((item, i) => {
    const group = groups.get(item.gateway);
    if (group) group.push(i);
    else groups.set(item.gateway, [i]);
  });
  await Promise.all(
    [...groups].map(async ([gateway, indexes]) => {
      const answers = await gateway.charge(indexes.map((i) => items[i]!.request), co);
      indexes.forEach((idx, j) => (results[idx] = answers[j]!));
    }),
  );
  return results;
}

function chargeRequest(attempt: AttemptRow, ctx: AttemptContext, at: Date, paymentMethod: string): ChargeRequest {
  const { payment, customer, rescue } = ctx;
  // A fallback's first charge is that card's first attempt, not a retry of an earlier decline on it.
  const freshMethod = rescue !== null && attempt.payment_method_position > 0 && rescue.retries_made + 1 === rescue.method_retries_base;
  return {
    accountId: attempt.account_id,
    livemode: attempt.livemode,
    attemptId: attempt.id,
    idempotencyKey: attempt.idempotency_key,
    attemptedAt: at,
    retryNumber: attempt.number - 1,
    firstFailureAt: freshMethod ? null : (rescue?.method_started_at ?? rescue?.started_at ?? null),
    payment: { id: payment.id, amount: payment.amount, currency: payment.currency, metadata: payment.metadata },
    customer: customer ? { id: customer.id, email: customer.email, name: customer.name, timezone: customer.timezone } : null,
    paymentMethod,
    paymentMethodType: attempt.payment_method_type,
  };
}

function cancelled(attempt: AttemptRow, at: Date) {
  return {
    id: attempt.id,
    account_id: attempt.account_id,
    claimed_by: attempt.claimed_by ?? '',
    status: 'cancelled' as const,
    attempted_at: null,
    planned_at: attempt.planned_at,
    decline_code: null,
    decline_category: null,
    advice_code: null,
    failure_message: `not attempted: rescue no longer active at ${at.toISOString()}`,
    transaction_id: null,
    account_updater_checked: false,
    card_was_updated: false,
    gateway_errors: attempt.gateway_errors,
  };
}

/** A network rule refused the retry: wait until it allows one inside the window, or end the rescue. */
export function blockedByNetwork(attempt: AttemptRow, ctx: AttemptContext, at: Date, retryAfter: Date | null): AttemptConsequences {
  const rescue = ctx.rescue!;
  if (retryAfter && retryAfter.getTime() <= rescue.window_ends_at.getTime()) {
    return {
      attempt: { ...cancelled(attempt, at), status: 'planned', failure_message: null, planned_at: retryAfter },
      payment: { id: ctx.payment.id, account_id: ctx.payment.account_id, status: 'requires_rescue', failure_code: ctx.payment.failure_code, failure_message: ctx.payment.failure_message, payment_method: ctx.payment.payment_method, updated_at: at },
      rescueInsert: null,
      rescueUpdate: null,
      nextAttempt: null,
    };
  }
  const payment = { id: ctx.payment.id, account_id: ctx.payment.account_id, status: 'failed' as const, failure_code: ctx.payment.failure_code, failure_message: ctx.payment.failure_message, payment_method: ctx.payment.payment_method, updated_at: at };
  return endRescue({ ctx, at, attempt }, { ...cancelled(attempt, at), failure_message: 'not attempted: card network retry limit' }, payment, rescue.retries_made, 'network_rule', null);
}

/**
 * A dead card with no new card (domain/dead-card.ts): not charged. A next payment method, if the
 * rescue has one, takes over now; else the same planned retry waits for the next check (no retry
 * counted, no payment.rescue_retry), and the rescue ends as `no_new_card` when its window is over.
 */
export function waitForNewCard(attempt: AttemptRow, ctx: AttemptContext, at: Date, decline: DeclineInfo): AttemptConsequences {
  const rescue = ctx.rescue!;
  const notCharged = { ...cancelled(attempt, at), failure_message: 'not attempted: the card needs new card data and none arrived' };
  const payment = { id: ctx.payment.id, account_id: ctx.payment.account_id, status: 'requires_rescue' as const, failure_code: ctx.payment.failure_code, failure_message: ctx.payment.failure_message, payment_method: ctx.payment.payment_method, updated_at: at };
  const moved = moveToNextMethod({ ctx, at, attempt }, notCharged, payment, rescue.retries_made, 'no_new_card', decline);
  if (moved) return moved;
  const next = nextNewCardCheck(at, rescue.window_ends_at);
  if (!next) return endRescue({ ctx, at, attempt }, notCharged, { ...payment, status: 'failed' }, rescue.retries_made, 'no_new_card', decline, { cascade: false });
  // Nothing else is planned while the card is dead: the schedule shows the next check.
  const schedule: PlannedRetry[] = [{ retry_number: rescue.retries_made + 1, scheduled_at: next.toISOString() }];
  return {
    attempt: { ...notCharged, status: 'planned', failure_message: null, planned_at: next },
    payment,
    rescueInsert: null,
    rescueUpdate: { payment_id: rescue.payment_id, account_id: rescue.account_id, status: 'active', retries_made: rescue.retries_made, schedule, end_reason: null, ended_at: null },
    nextAttempt: null,
  };
}

function lastDeclineOf(row: DeclinedAttemptRow | undefined): LastDecline | null {
  if (!row) return null;
  return { code: row.decline_code, adviceCode: row.advice_code, brand: row.card_brand, fingerprint: row.card_fingerprint, paymentMethodType: row.payment_method_type };
}

/**
 * The past 30 days of the cards whose retries the network rules will check. Only retries are checked
 * (a payment's first attempt is no reattempt; it is still counted into the batch's histories as it
 * runs), so a batch of first attempts — every POST /v2/payments — reads no history at all.
 */
async function cardHistories(db: Db, attempts: readonly AttemptRow[], timeOf: (a: AttemptRow) => Date): Promise<Map<string, CardAttemptRecord[]>> {
  const retries = attempts.filter((a) => a.number > 1);
  if (retries.length === 0) return new Map();
  const earliest = Math.min(...retries.map((a) => timeOf(a).getTime()));
  const rows = await loadCardHistory(
    db,
    retries.map((a) => ({ accountId: a.account_id, fingerprint: a.card_fingerprint })),
    new Date(earliest - THIRTY_DAYS_MS),
  );
  const map = new Map<string, CardAttemptRecord[]>();
  for (const row of rows) {
    const key = `${row.account_id}|${row.card_fingerprint}`;
    const record = cardRecordOf(row);
    const list = map.get(key);
    if (list) list.push(record);
    else map.set(key, [record]);
  }
  return map;
}

/** One finished attempt as the network rules see it. */
export function cardRecordOf(row: CardAttemptRow): CardAttemptRecord {
  const info = row.decline_code ? classifyDecline({ code: row.decline_code, adviceCode: row.advice_code, brand: row.card_brand as CardBrand, count: false }) : null;
  return {
    at: row.attempted_at,
    outcome: row.status,
    initiator: 'merchant',
    reattempt: row.number > 1,
    ...(row.decline_code ? { declineCode: row.decline_code } : {}),
    ...(row.advice_code ? { adviceCode: row.advice_code } : {}),
    ...(info?.visaCategory ? { visaCategory: info.visaCategory } : {}),
  };
}
