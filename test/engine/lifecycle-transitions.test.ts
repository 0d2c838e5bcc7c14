import { describe, expect, it } from 'vitest';
import type { RescuePolicy } from '../../src/domain/auto-rescue-policy.ts';
import { classifyDecline } from '../../src/domain/decline-taxonomy.ts';
import { firstChargeAt } from '../../src/domain/schedule-policy.ts';
import type { ChargeResult } from '../../src/gateways/gateway.ts';
import {
  cancelRescue,
  cardUpdatedInStripe,
  consequencesOfCharge,
  handOffConsequences,
  MAX_METHOD_UPDATES,
  newCard,
  observedAgain,
  OBSERVE_AGAIN_MESSAGE,
  recoveryAttemptOfStripe,
  retryObservedInStripe,
  type NewCardState,
} from '../../src/engine/lifecycle.ts';
import { blockedByNetwork } from '../../src/engine/run-attempts.ts';
import { DEAUTHORIZED, DISCONNECTED } from '../../src/stripe/connection-events.ts';
import type { AttemptContext } from '../../src/store/attempts.ts';
import type { AttemptConsequences } from '../../src/store/batch-writes.ts';
import type { LifecycleChange } from '../../src/store/lifecycle-writes.ts';
import type { AttemptRow, PaymentRow, RescuePaymentMethodRow, RescueRow } from '../../src/store/schema.ts';

// Issue 10: every transition of a payment and its rescue is a pure function from the state its
// caller loaded to the change it causes. Table-driven, no server, no database: rows of (state,
// input) → statuses, events, the next attempt.

const T0 = new Date('2026-03-02T15:00:00Z');
const DAY = 86_400_000;
const at = (ms: number) => new Date(T0.getTime() + ms);
const POLICY: RescuePolicy = { maxRetries: 3, retryWindowDays: 14, schedule: { kind: 'custom', days: [1, 3, 5] }, notifyCustomer: true, checkAccountUpdater: false };

function payment(o: Partial<PaymentRow> = {}): PaymentRow {
  return {
    id: 'pay_1', account_id: 'acct_1', livemode: false, customer_id: 'cus_1', payment_method: 'pm_card_visa', amount: 4999, currency: 'USD',
    off_session: true, status: 'processing', failure_code: null, failure_message: null, metadata: {}, test_clock: null, idempotency_key: null,
    rescue_policy: POLICY, sandbox_note: null, created_at: T0, updated_at: T0, seq: 1, ...o,
  };
}

function attempt(o: Partial<AttemptRow> = {}): AttemptRow {
  return {
    id: 'att_1', account_id: 'acct_1', livemode: false, payment_id: 'pay_1', number: 1, status: 'processing', planned_at: T0, claimed_by: 'w1',
    lease_expires_at: at(60_000), attempted_at: null, idempotency_key: 'rescue_att_1', decline_code: null, decline_category: null, advice_code: null,
    failure_message: null, transaction_id: null, card_fingerprint: 'fp_visa', card_brand: 'visa', account_updater_checked: false, card_was_updated: false,
    gateway_errors: 0, test_clock: null, predicted_p: null, announced_at: null, gateway: null, card_last4: '4242', card_funding: 'credit',
    card_country: 'US', payment_method_type: 'card', payment_method_position: 0, ...o,
  };
}

function rescue(o: Partial<RescueRow> = {}): RescueRow {
  return {
    payment_id: 'pay_1', account_id: 'acct_1', status: 'active', max_retries: 3, retry_window_days: 14, window_ends_at: at(14 * DAY),
    retry_schedule: 'custom', custom_schedule_days: [1, 3, 5], notify_customer: true, check_account_updater: false, retries_made: 0,
    schedule: [{ retry_number: 1, scheduled_at: at(DAY).toISOString() }], end_reason: null, started_at: T0, ended_at: null,
    payment_method_position: 0, method_started_at: null, method_retries_base: 0, ...o,
  };
}

const fallback: RescuePaymentMethodRow = { account_id: 'acct_1', payment_id: 'pay_1', position: 1, token: 'pm_card_mastercard', gateway: null, type: 'card', brand: 'mastercard', last4: '4444', fingerprint: 'fp_mc' };

function ctx(o: Partial<AttemptContext> = {}): AttemptContext {
  return { payment: payment(), rescue: null, customer: null, recovery: null, methods: [], ...o };
}

const declined = (code: string): ChargeResult => ({ status: 'failed', declineCode: code, message: '', adviceCode: null });
const approved: ChargeResult = { status: 'succeeded', transactionId: 'txn_1' };

/** What a transition did, in the words of the lifecycle diagram. */
function summary(c: AttemptConsequences) {
  return {
    attempt: c.attempt.status,
    payment: c.payment?.status ?? null,
    rescue: c.rescueInsert ? `started:${c.rescueInsert.status}` : c.rescueUpdate ? `${c.rescueUpdate.status}${c.rescueUpdate.end_reason ? `:${c.rescueUpdate.end_reason}` : ''}` : null,
    next: c.nextAttempt ? { number: c.nextAttempt.number, position: c.nextAttempt.payment_method_position ?? 0 } : null,
    events: (c.events ?? []).map((e) => e.type),
  };
}

const retry = (number: number, o: Partial<AttemptRow> = {}) => attempt({ id: `att_${number}`, number, planned_at: at((number - 1) * DAY), ...o });

describe('create and first outcome (the Plexy API, a Stripe event)', () => {
  const rows: { name: string; policy: RescuePolicy | null; result: ChargeResult; expected: ReturnType<typeof summary> }[] = [
    { name: 'approved', policy: POLICY, result: approved, expected: { attempt: 'succeeded', payment: 'succeeded', rescue: null, next: null, events: [] } },
    { name: 'soft decline starts a rescue', policy: POLICY, result: declined('insufficient_funds'), expected: { attempt: 'failed', payment: 'requires_rescue', rescue: 'started:active', next: { number: 2, position: 0 }, events: ['payment.rescue_started'] } },
    { name: 'hard decline is blocked', policy: POLICY, result: declined('lost_card'), expected: { attempt: 'failed', payment: 'failed', rescue: null, next: null, events: ['recovery.blocked'] } },
    { name: 'Auto Rescue off fails at once', policy: null, result: declined('insufficient_funds'), expected: { attempt: 'failed', payment: 'failed', rescue: null, next: null, events: [] } },
  ];
  it.each(rows)('$name', ({ policy, result, expected }) => {
    const c = consequencesOfCharge({ attempt: attempt(), ctx: ctx({ payment: payment({ rescue_policy: policy }) }), at: T0, result, paymentMethod: 'pm_card_visa', accountUpdaterChecked: false, cardWasUpdated: false });
    expect(summary(c)).toEqual(expected);
  });

  it('a soft decline plans the schedule the policy gives, shown on the rescue and in its event', () => {
    const c = consequencesOfCharge({ attempt: attempt(), ctx: ctx(), at: T0, result: declined('insufficient_funds'), paymentMethod: 'pm_card_visa', accountUpdaterChecked: false, cardWasUpdated: false });
    const schedule = JSON.parse(String(c.rescueInsert!.schedule)) as { scheduled_at: string }[];
    expect(schedule).toHaveLength(3);
    expect(new Date(schedule[0]!.scheduled_at)).toEqual(c.nextAttempt!.planned_at);
    expect(c.events![0]!.data).toMatchObject({ failure_code: 'insufficient_funds', rescue_schedule: { max_retries: 3 } });
  });
});

describe('create and first outcome (a Revtain hand-off)', () => {
  const soft = classifyDecline({ code: 'insufficient_funds', brand: 'visa' });
  const hard = classifyDecline({ code: 'stolen_card', brand: 'visa' });
  const rows = [
    { name: 'soft decline starts on the primary', decline: soft, primaryBlocked: false, methods: [], expected: { payment: 'requires_rescue', next: { number: 2, position: 0 }, events: ['payment.rescue_started'] } },
    { name: 'hard decline is blocked', decline: hard, primaryBlocked: false, methods: [fallback], expected: { payment: 'failed', next: null, events: ['recovery.blocked'] } },
    { name: 'a blocked primary starts on the fallback', decline: soft, primaryBlocked: true, methods: [fallback], expected: { payment: 'requires_rescue', next: { number: 2, position: 1 }, events: ['payment.rescue_started'] } },
    { name: 'a blocked primary without a fallback is blocked by the network rule', decline: soft, primaryBlocked: true, methods: [], expected: { payment: 'failed', next: null, events: ['recovery.blocked'] } },
  ];
  it.each(rows)('$name', ({ decline, primaryBlocked, methods, expected }) => {
    const c = handOffConsequences({ attempt: attempt(), ctx: ctx({ methods }), at: T0, decline, policy: POLICY, primaryBlocked });
    const s = summary(c);
    expect({ payment: s.payment, next: s.next, events: s.events }).toEqual(expected);
    if (primaryBlocked && methods.length) expect(c.payment!.payment_method).toBe(fallback.token);
    if (expected.events[0] === 'recovery.blocked') expect(c.events![0]!.data.reason).toBe(decline === hard ? 'hard_decline' : 'network_rule');
  });
});

describe("an attempt's outcome", () => {
  const rows: { name: string; rescue: Partial<RescueRow>; attempt: AttemptRow; at: Date; result: ChargeResult; methods?: RescuePaymentMethodRow[]; expected: ReturnType<typeof summary> }[] = [
    {
      name: 'success recovers',
      rescue: {}, attempt: retry(2), at: at(DAY), result: approved,
      expected: { attempt: 'succeeded', payment: 'succeeded', rescue: 'recovered', next: null, events: ['payment.rescue_succeeded', 'recovery.success', 'recovery_event'] },
    },
    {
      name: 'soft decline with budget left replans',
      rescue: {}, attempt: retry(2), at: at(DAY), result: declined('insufficient_funds'),
      expected: { attempt: 'failed', payment: 'requires_rescue', rescue: 'active', next: { number: 3, position: 0 }, events: [] },
    },
    {
      name: 'hard decline ends it',
      rescue: {}, attempt: retry(2), at: at(DAY), result: declined('stolen_card'),
      expected: { attempt: 'failed', payment: 'failed', rescue: 'exhausted:hard_decline', next: null, events: ['payment.rescue_failed', 'recovery.failed', 'recovery.blocked'] },
    },
    {
      name: 'budget exhausted ends it',
      rescue: { retries_made: 2 }, attempt: retry(4), at: at(5 * DAY), result: declined('insufficient_funds'),
      expected: { attempt: 'failed', payment: 'failed', rescue: 'exhausted:max_retries', next: null, events: ['payment.rescue_failed', 'recovery.failed'] },
    },
    {
      name: 'window closed ends it',
      rescue: { window_ends_at: at(DAY) }, attempt: retry(2), at: at(DAY), result: declined('insufficient_funds'),
      expected: { attempt: 'failed', payment: 'failed', rescue: 'exhausted:window_closed', next: null, events: ['payment.rescue_failed', 'recovery.failed'] },
    },
    {
      name: 'no retry left inside the window ends it',
      rescue: { window_ends_at: at(DAY + 60_000) }, attempt: retry(2), at: at(DAY), result: declined('insufficient_funds'),
      expected: { attempt: 'failed', payment: 'failed', rescue: 'exhausted:no_retry_planned', next: null, events: ['payment.rescue_failed', 'recovery.failed'] },
    },
    {
      name: 'a spent method moves to the fallback',
      rescue: { retries_made: 2 }, attempt: retry(4), at: at(5 * DAY), result: declined('insufficient_funds'), methods: [fallback],
      expected: { attempt: 'failed', payment: 'requires_rescue', rescue: 'active', next: { number: 5, position: 1 }, events: [] },
    },
  ];
  it.each(rows)('$name', ({ rescue: r, attempt: a, at: when, result, methods, expected }) => {
    const c = consequencesOfCharge({ attempt: a, ctx: ctx({ payment: payment({ status: 'rescue_in_progress' }), rescue: rescue(r), methods: methods ?? [] }), at: when, result, paymentMethod: 'pm_card_visa', accountUpdaterChecked: false, cardWasUpdated: false });
    expect(summary(c)).toEqual(expected);
    if (methods?.length) {
      expect(c.payment!.payment_method).toBe(fallback.token);
      expect(c.rescueUpdate).toMatchObject({ payment_method_position: 1, method_retries_base: 4 });
      expect(c.nextAttempt).toMatchObject({ card_fingerprint: 'fp_mc', planned_at: firstChargeAt(when, 'UTC') });
    }
  });
});

describe('a network-rule block', () => {
  const rows = [
    { name: 'a retry allowed later inside the window waits for it', retryAfter: at(3 * DAY), expected: { attempt: 'planned', payment: 'requires_rescue', rescue: null, next: null, events: [] } },
    { name: 'no retry allowed inside the window ends the rescue', retryAfter: at(30 * DAY), expected: { attempt: 'cancelled', payment: 'failed', rescue: 'exhausted:network_rule', next: null, events: ['payment.rescue_failed', 'recovery.failed', 'recovery.blocked'] } },
    { name: 'never allowed again ends the rescue', retryAfter: null, expected: { attempt: 'cancelled', payment: 'failed', rescue: 'exhausted:network_rule', next: null, events: ['payment.rescue_failed', 'recovery.failed', 'recovery.blocked'] } },
  ];
  it.each(rows)('$name', ({ retryAfter, expected }) => {
    const c = blockedByNetwork(retry(2), ctx({ payment: payment({ status: 'rescue_in_progress' }), rescue: rescue() }), at(DAY), retryAfter);
    expect(summary(c)).toEqual(expected);
    if (expected.attempt === 'planned') expect(c.attempt.planned_at).toEqual(retryAfter);
  });
});

/** A change set in the same words: what it writes and which events it carries. */
function changeSummary(c: LifecycleChange) {
  return {
    payment: c.paymentUpdates?.[0]?.set.status ?? null,
    rescue: c.rescueInserts?.length ? 'started' : (c.rescueUpdates?.[0]?.set.status ?? (c.rescueUpdates?.length ? 'schedule' : null)),
    attempts: (c.attempts ?? []).map((a) => a.status),
    moved: (c.attemptUpdates ?? []).length,
    cancelPlanned: (c.cancelPlanned ?? []).map((x) => x.message),
    events: (c.events ?? []).map((e) => e.type),
  };
}

describe('cancelling', () => {
  const rows = [
    { name: 'the merchant (API)', cause: { by: 'merchant' as const }, reason: 'cancelled', message: 'rescue cancelled', data: {} },
    { name: 'Stripe: subscription deleted', cause: { by: 'stripe' as const, reason: 'subscription_deleted', message: 'subscription cancelled in Stripe' }, reason: 'subscription_deleted', message: 'subscription cancelled in Stripe', data: { reason: 'subscription_deleted' } },
    { name: 'Stripe: disconnected', cause: { by: 'stripe' as const, reason: DISCONNECTED.rescueReason, message: DISCONNECTED.message }, reason: 'stripe_disconnected', message: DISCONNECTED.message, data: { reason: 'stripe_disconnected', message: DISCONNECTED.message } },
    { name: 'Stripe: deauthorised', cause: { by: 'stripe' as const, reason: DEAUTHORIZED.rescueReason, message: DEAUTHORIZED.message }, reason: 'stripe_deauthorized', message: DEAUTHORIZED.message, data: { reason: 'stripe_deauthorized' } },
  ];
  it.each(rows)('$name', ({ cause, reason, message, data }) => {
    const c = cancelRescue({ payment: payment({ status: 'requires_rescue' }), attemptsMade: 2 }, cause, at(DAY));
    expect(changeSummary(c)).toEqual({ payment: 'rescue_cancelled', rescue: 'cancelled', attempts: [], moved: 0, cancelPlanned: [message], events: ['payment.rescue_cancelled'] });
    expect(c.rescueUpdates![0]!.set).toMatchObject({ end_reason: reason, ended_at: at(DAY), schedule: '[]' });
    expect(c.events![0]!.data).toMatchObject({ payment: 'pay_1', total_attempts: 2, ...data });
    if (cause.by === 'merchant') expect(Object.keys(c.events![0]!.data)).toEqual(['payment', 'customer', 'amount', 'currency', 'total_attempts']);
  });

  it('a disconnect also cancels an attempt left processing (its answer can never come), releasing its claim', () => {
    const c = cancelRescue({ payment: payment({ status: 'rescue_in_progress' }), attemptsMade: 1, stranded: ['att_2'] }, { by: 'stripe', reason: DISCONNECTED.rescueReason, message: DISCONNECTED.message }, at(DAY));
    expect(changeSummary(c)).toMatchObject({ payment: 'rescue_cancelled', rescue: 'cancelled', moved: 1, events: ['payment.rescue_cancelled'] });
    expect(c.attemptUpdates).toEqual([{ account_id: 'acct_1', id: 'att_2', set: { status: 'cancelled', failure_message: DISCONNECTED.message, claimed_by: null, lease_expires_at: null } }]);
  });
});

describe('the Stripe connection switches to observe mode', () => {
  const rows = [
    { name: 'a rescue waiting for its next retry', status: 'requires_rescue' as const, processing: [] as string[], payment: null, moved: 0 },
    { name: 'a rescue whose retry observe mode will never charge', status: 'rescue_in_progress' as const, processing: ['att_2'], payment: 'requires_rescue', moved: 1 },
  ];
  it.each(rows)('$name: planned retries cancelled, the rescue stays open, no event', ({ status, processing, payment: after, moved }) => {
    const c = observedAgain({ payment: payment({ status }), processing }, at(DAY));
    expect(changeSummary(c)).toEqual({ payment: after, rescue: null, attempts: [], moved, cancelPlanned: [OBSERVE_AGAIN_MESSAGE], events: [] });
    for (const u of c.attemptUpdates ?? []) expect(u.set).toMatchObject({ status: 'cancelled', claimed_by: null });
  });
});

describe('a new card from the customer', () => {
  const card = { fingerprint: 'fp_new', brand: 'mastercard', last4: '4444', funding: 'debit', country: 'GB' };
  const input = { paymentMethod: 'pm_card_mastercard', source: 'hosted_page' as const, gateway: null, card };
  const now = at(2 * DAY);
  const planned = retry(3, { status: 'planned', planned_at: at(5 * DAY) });
  const state = (o: Partial<NewCardState>): NewCardState => ({ payment: payment({ status: 'failed', failure_code: 'lost_card' }), rescue: null, timezone: 'UTC', planned: null, last: retry(2, { status: 'failed', decline_code: 'lost_card' }), previous: [], ...o });
  const rows: { name: string; state: NewCardState; outcome: string; change: ReturnType<typeof changeSummary> | null }[] = [
    { name: 'paid: nothing', state: state({ payment: payment({ status: 'succeeded' }) }), outcome: 'already_paid', change: null },
    { name: 'a retry running: nothing', state: state({ payment: payment({ status: 'rescue_in_progress' }) }), outcome: 'in_progress', change: null },
    { name: 'cancelled: nothing', state: state({ payment: payment({ status: 'rescue_cancelled' }) }), outcome: 'closed', change: null },
    {
      name: 'an active rescue moves its next retry up on the new card',
      state: state({ payment: payment({ status: 'requires_rescue' }), rescue: rescue({ retries_made: 1 }), planned }),
      outcome: 'retry_moved',
      change: { payment: null, rescue: 'schedule', attempts: [], moved: 1, cancelPlanned: [], events: [] },
    },
    {
      name: 'an exhausted rescue reopens one retry, with payment.rescue_started',
      state: state({ rescue: rescue({ status: 'exhausted', retries_made: 1, end_reason: 'hard_decline', ended_at: at(DAY) }) }),
      outcome: 'reopened',
      change: { payment: 'requires_rescue', rescue: 'active', attempts: ['planned'], moved: 0, cancelPlanned: [], events: ['payment.rescue_started'] },
    },
    {
      name: 'a hard decline at the first attempt opens a rescue of one retry, with payment.rescue_started',
      state: state({ last: attempt({ status: 'failed', decline_code: 'lost_card' }) }),
      outcome: 'reopened',
      change: { payment: 'requires_rescue', rescue: 'started', attempts: ['planned'], moved: 0, cancelPlanned: [], events: ['payment.rescue_started'] },
    },
    { name: 'a second card after a reopen is only saved', state: state({ previous: [{ outcome: 'reopened' }] }), outcome: 'saved', change: { payment: null, rescue: null, attempts: [], moved: 0, cancelPlanned: [], events: [] } },
    { name: 'outside Auto Rescue: nothing', state: state({ payment: payment({ status: 'failed', rescue_policy: null }) }), outcome: 'closed', change: null },
    { name: `past ${MAX_METHOD_UPDATES} cards: refused`, state: state({ previous: Array.from({ length: MAX_METHOD_UPDATES }, () => ({ outcome: 'saved' as const })) }), outcome: 'limit_reached', change: null },
  ];
  it.each(rows)('$name', ({ state: s, outcome, change }) => {
    const r = newCard(s, input, now);
    expect(r.outcome.kind).toBe(outcome);
    if (!change) return expect(r.change).toEqual({});
    expect(changeSummary(r.change)).toEqual(change);
    expect(r.change.methodUpdates).toMatchObject([{ payment_id: 'pay_1', outcome, card_fingerprint: 'fp_new', created_at: now }]);
    expect(r.change.paymentUpdates![0]!.set.payment_method).toBe('pm_card_mastercard');
  });

  it('the reopened retry is on the new card at the earliest allowed moment, and its event causes no email', () => {
    const r = newCard(state({ rescue: rescue({ status: 'exhausted', retries_made: 2, max_retries: 3 }) }), input, now);
    const retryAt = firstChargeAt(now, 'UTC');
    expect(r.outcome).toEqual({ kind: 'reopened', retryAt });
    expect(r.change.attempts![0]).toMatchObject({ number: 3, status: 'planned', planned_at: retryAt, card_fingerprint: 'fp_new', card_was_updated: true });
    expect(r.change.rescueUpdates![0]!.set).toMatchObject({ status: 'active', max_retries: 3, end_reason: null });
    const event = r.change.events![0]!;
    expect(event).toMatchObject({ quiet: true, createdAt: now, data: { failure_code: 'lost_card', rescue_schedule: { max_retries: 3, first_retry_at: retryAt.toISOString().replace('.000Z', 'Z') } } });
  });

  it('the same card again changes nothing', () => {
    const moved = retry(3, { status: 'planned', card_was_updated: true, planned_at: at(3 * DAY) });
    const r = newCard(state({ payment: payment({ status: 'requires_rescue', payment_method: 'pm_card_mastercard' }), rescue: rescue(), planned: moved }), input, now);
    expect(r).toEqual({ outcome: { kind: 'retry_moved', retryAt: at(3 * DAY) }, change: {} });
  });
});

describe('what Stripe observed', () => {
  it('a failed Stripe retry is recorded as an attempt, counted in an active rescue', () => {
    const rows = [
      { rescue: { status: 'active' as const, retries_made: 1 }, counted: [2] },
      { rescue: { status: 'exhausted' as const, retries_made: 3 }, counted: [] },
      { rescue: null, counted: [] },
    ];
    for (const row of rows) {
      const c = retryObservedInStripe({ last: retry(2, { status: 'failed' }), rescue: row.rescue }, { declineCode: 'do_not_honor', adviceCode: null, message: 'Declined', transactionId: 'ch_1', card: null }, at(DAY));
      expect(c.attempts).toMatchObject([{ number: 3, status: 'failed', decline_code: 'do_not_honor', transaction_id: 'ch_1', attempted_at: at(DAY), card_fingerprint: 'fp_visa' }]);
      expect(c.attempts![0]!.idempotency_key).toBe(`stripe_${c.attempts![0]!.id}`);
      expect((c.rescueUpdates ?? []).map((u) => u.set.retries_made)).toEqual(row.counted);
      expect(c.paymentUpdates).toMatchObject([{ set: { failure_code: 'do_not_honor' } }]);
    }
  });

  it('a recovery Stripe reports is a success of the next attempt, with the rescue_succeeded events', () => {
    const row = recoveryAttemptOfStripe(retry(2, { status: 'failed' }), at(DAY), { workerId: 'w9', leaseUntil: at(DAY + 60_000) });
    expect(row).toMatchObject({ number: 3, status: 'processing', claimed_by: 'w9' });
    const c = consequencesOfCharge({ attempt: attempt({ ...row, id: row.id, number: 3 } as Partial<AttemptRow>), ctx: ctx({ payment: payment({ status: 'requires_rescue' }), rescue: rescue({ retries_made: 1 }) }), at: at(DAY), result: { status: 'succeeded', transactionId: 'in_1' }, paymentMethod: 'pm_card_visa', accountUpdaterChecked: false, cardWasUpdated: false });
    expect(summary(c)).toEqual({ attempt: 'succeeded', payment: 'succeeded', rescue: 'recovered', next: null, events: ['payment.rescue_succeeded', 'recovery.success', 'recovery_event'] });
  });

  it("a recovery after Stripe's card updater replaced the card names the new card", () => {
    const row = recoveryAttemptOfStripe(retry(2, { status: 'failed' }), at(DAY), { workerId: 'w9', leaseUntil: at(DAY + 60_000) }, { fingerprint: 'fp_new', brand: 'mastercard', last4: '1881' });
    expect(row).toMatchObject({ number: 3, card_was_updated: true, card_fingerprint: 'fp_new', card_brand: 'mastercard', card_last4: '1881', card_funding: 'credit' });
    const unchanged = recoveryAttemptOfStripe(retry(2, { status: 'failed' }), at(DAY), { workerId: 'w9', leaseUntil: at(DAY) });
    expect(unchanged).toMatchObject({ card_fingerprint: 'fp_visa', card_last4: '4242' });
    expect(unchanged.card_was_updated).toBeFalsy();
  });

  it("a card Stripe updated moves each open rescue's next retry up, never later", () => {
    const soon = firstChargeAt(at(DAY), 'UTC');
    const c = cardUpdatedInStripe(
      [
        { account_id: 'acct_1', id: 'att_a', payment_id: 'pay_a', planned_at: at(4 * DAY), timezone: 'UTC', schedule: [{ retry_number: 2, scheduled_at: at(4 * DAY).toISOString() }, { retry_number: 3, scheduled_at: at(6 * DAY).toISOString() }] },
        { account_id: 'acct_1', id: 'att_b', payment_id: 'pay_b', planned_at: at(DAY), timezone: null, schedule: [{ retry_number: 1, scheduled_at: at(DAY).toISOString() }] },
      ],
      { fingerprint: 'fp_upd', last4: '1111' },
      at(DAY),
    );
    expect(c.attemptUpdates).toEqual([
      { account_id: 'acct_1', id: 'att_a', onlyIfPlanned: true, set: { card_was_updated: true, planned_at: soon, card_fingerprint: 'fp_upd', card_last4: '1111' } },
      { account_id: 'acct_1', id: 'att_b', onlyIfPlanned: true, set: { card_was_updated: true, planned_at: at(DAY), card_fingerprint: 'fp_upd', card_last4: '1111' } },
    ]);
    // The schedule shown (next_retry_at, scheduled_retries) follows the moved retry; later ones stay.
    expect(c.rescueUpdates!.map((u) => [u.payment_id, JSON.parse(u.set.schedule as string)])).toEqual([
      ['pay_a', [{ retry_number: 2, scheduled_at: soon.toISOString() }, { retry_number: 3, scheduled_at: at(6 * DAY).toISOString() }]],
      ['pay_b', [{ retry_number: 1, scheduled_at: at(DAY).toISOString() }]],
    ]);
  });
});
