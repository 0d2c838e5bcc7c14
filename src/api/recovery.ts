import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_FALLBACKS } from '../domain/cascade.ts';
import { percentOf } from '../domain/analytics.ts';
import { newcombeDifference, Z95 } from '../domain/experiment.ts';
import { analyticsFigures } from '../engine/analytics.ts';
import { MAX_AMOUNT, normalizeCurrency } from '../domain/money.ts';
import { PAYMENT_METHOD_TYPES } from '../domain/wallets.ts';
import { executeRecovery, type ExecuteOutcome } from '../engine/recovery.ts';
import type { PaymentDeps } from '../engine/payments.ts';
import { RescueError } from '../errors.ts';
import type { Scope } from '../store/payments.ts';
import { experimentArms, getRecoveryRecord, handOffsByType, insertPulse, liftCells, type LiftCell, type LiftInterval } from '../store/recoveries.ts';
import { getSettings } from '../store/settings.ts';
import { IdParams, Metadata, queryInstant } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { recoveryJson } from './recovery-json.ts';
import { DashboardResponse } from './dashboard-schema.ts';
import { defineRoute, withStatus } from './route.ts';
import { GatewayName } from './settings.ts';
import * as R from './responses.ts';

// Revtain's recovery API (seed 004): hand a failed charge to Rescue, log organic successes, read Lift.

const Token = z.string().min(1).max(255);
const PaymentMethodType = z.enum(PAYMENT_METHOD_TYPES, { message: `paymentMethodType must be one of ${PAYMENT_METHOD_TYPES.join(', ')}` });
const Currency = z.string().transform((c, ctx) => normalizeCurrency(c) ?? (ctx.addIssue({ code: 'custom', message: `unknown currency '${c}' (ISO 4217 code expected)` }), z.NEVER));
const Amount = z.number().int('amount must be an integer in the currency\'s minor unit').positive('amount must be positive').max(MAX_AMOUNT);

/** A fallback: a token, or a token with its own type and gateway (a backup card behind a wallet primary). */
const Fallback = z.union([
  Token.transform((token) => ({ token, paymentMethodType: 'card' as const, gateway: undefined })),
  z.strictObject({ token: Token, paymentMethodType: PaymentMethodType.default('card'), gateway: GatewayName.optional() }),
]);

export const ExecuteBody = z
  .strictObject({
    paymentMethodToken: Token,
    amount: Amount,
    currency: Currency,
    originalDeclineCode: z.string().min(1).max(100).nullish(),
    cardOrigin: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'cardOrigin must be an ISO 3166-1 alpha-2 country code such as US')
      .transform((c) => c.toUpperCase())
      .nullish(),
    idempotencyKey: z.string().min(1).max(255).nullish(),
    paymentMethodType: PaymentMethodType.default('card'),
    fallbackPaymentMethodTokens: z.array(Fallback).max(MAX_FALLBACKS, `at most ${MAX_FALLBACKS} fallback tokens are supported`).default([]),
    /** Charge the primary token through this named gateway instead of routing it by its shape. */
    gateway: GatewayName.optional(),
    customer: z.string().min(1).max(100).optional(),
    metadata: Metadata.default({}),
  })
  .superRefine((b, ctx) => {
    const seen = [b.paymentMethodToken];
    b.fallbackPaymentMethodTokens.forEach((f, i) => {
      if (seen.includes(f.token)) ctx.addIssue({ code: 'custom', path: ['fallbackPaymentMethodTokens', i], message: 'each fallback token must differ from the primary token and from the other fallbacks' });
      seen.push(f.token);
    });
  });

export const PulseBody = z.strictObject({ amount: Amount, currency: Currency, transactionId: z.string().min(1).max(255) });

/** Unix seconds, an ISO 8601 instant, or a date (UTC midnight). */
const Instant = queryInstant({ withDate: true });

const PeriodQuery = z.strictObject({
  from: Instant.optional(),
  to: Instant.optional(),
  interval: z.enum(['day', 'week', 'month']).optional(),
});

const DashboardQuery = PeriodQuery.extend({ currency: Currency.optional() });

const DAY_MS = 86_400_000;
const MAX_PERIODS = 400;

export function registerRecovery(app: FastifyInstance, ctx: AppContext) {
  const deps: PaymentDeps = { db: ctx.db, clock: ctx.clock, gatewayFor: ctx.gatewayFor, leaseMs: ctx.config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000, workerId: ctx.processId };

  defineRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: '/api/recovery/execute',
      response: R.RecoveryRecovered,
      summary: 'Hand over a payment that failed at your gateway: 200 recovered now, 202 retries queued, 403 blocked, 409 duplicate idempotencyKey',
      tag: 'Recovery',
      auth: true,
      body: ExecuteBody,
      otherResponses: { 202: R.RecoveryQueued },
    },
    async ({ body, principal }) => {
      const outcome = await executeRecovery(deps, principal, {
        primary: { token: body.paymentMethodToken, type: body.paymentMethodType, gateway: body.gateway ?? null },
        fallbacks: body.fallbackPaymentMethodTokens.map((f) => ({ token: f.token, type: f.paymentMethodType, gateway: f.gateway ?? null })),
        amount: body.amount,
        currency: body.currency,
        originalDeclineCode: body.originalDeclineCode ?? null,
        cardOrigin: body.cardOrigin ?? null,
        idempotencyKey: body.idempotencyKey ?? null,
        customer: body.customer ?? null,
        metadata: body.metadata,
      });
      ctx.wakeWorker();
      return answer(outcome);
    },
  );

  defineRoute(app, ctx, { method: 'GET', url: '/api/recovery/:id', response: R.RecoveryRetrieved, summary: 'A hand-off with its state, schedule, payment methods and history', tag: 'Recovery', auth: true, params: IdParams }, async ({ params, principal }) => ({
    success: true,
    ...recoveryJson(await getRecoveryRecord(ctx.db, principal, params.id)),
  }));

  defineRoute(app, ctx, { method: 'POST', url: '/api/recovery/pulse', response: R.Pulse, summary: 'Log an organic (first-try) success for Lift; idempotent on transactionId', tag: 'Recovery', auth: true, body: PulseBody }, async ({ body, principal }) => {
    const { pulse, created } = await insertPulse(ctx.db, principal, { transactionId: body.transactionId, amount: body.amount, currency: body.currency, at: ctx.clock.now() });
    if (!created && (pulse.amount !== body.amount || pulse.currency !== body.currency)) {
      throw new RescueError(
        'pulse_conflict',
        `transactionId '${body.transactionId}' was already logged with ${pulse.amount} ${pulse.currency}; a transaction is counted once.`,
        'transactionId',
        { success: false, duplicate: true },
      );
    }
    return { success: true, duplicate: !created, transactionId: pulse.transaction_id, amount: pulse.amount, currency: pulse.currency, recordedAt: iso(pulse.created_at) };
  });

  defineRoute(app, ctx, { method: 'GET', url: '/api/recovery/lift', response: R.LiftAnswer, summary: 'Lift: recovered revenue as a share of organic revenue, per currency and period', tag: 'Recovery', auth: true, query: PeriodQuery }, async ({ query, principal }) => {
    const period = periodOf(query, ctx.clock.now(), 'month');
    return { success: true, ...(await lift(principal, period)) };
  });

  defineRoute(
    app,
    ctx,
    { method: 'GET', url: '/api/dashboard', summary: 'The dashboard\'s figures for a period and currency: revenue, Lift, recovery rates, MRR recovered, retry success by attempt, recovery by decline, days to recover, customers at risk, webhook health, the control group', tag: 'Recovery', auth: true, query: DashboardQuery, response: DashboardResponse },
    async ({ query, principal }) => {
      const period = periodOf(query, ctx.clock.now(), 'day');
      const currency = query.currency ?? null;
      const settings = await getSettings(ctx.db, principal.accountId, principal.livemode);
      const [liftFigures, types, arms, analytics] = await Promise.all([
        liftIn(principal, period, currency),
        handOffsByType(ctx.db, principal, period.from, period.to),
        experimentArms(ctx.db, principal, period.from, period.to),
        analyticsFigures(ctx.db, principal, { from: period.from, to: period.to, currency }),
      ]);
      return {
        success: true as const,
        object: 'dashboard' as const,
        livemode: principal.livemode,
        currencies: liftFigures.currencies,
        lift: liftFigures.lift,
        // Hand-offs by the primary's type: wallet tokens recover more often (domain/wallets.ts).
        paymentMethodTypes: types.map((f) => ({ ...f, recoveryRate: pct(f.recovered, f.decided) })),
        experiment: experimentJson(arms, settings.recovery.controlGroupPercent),
        ...analytics,
      };
    },
  );

  async function lift(scope: Scope, p: Period) {
    return liftJson(p, await liftCells(ctx.db, scope, p.from, p.to, p.interval));
  }

  /** Lift in one currency (or all), and every currency the period has figures in (the page's choices). */
  async function liftIn(scope: Scope, p: Period, currency: string | null) {
    const cells = await liftCells(ctx.db, scope, p.from, p.to, p.interval);
    return { lift: liftJson(p, cells.filter((c) => currency === null || c.currency === currency)), currencies: [...new Set(cells.map((c) => c.currency))].sort() };
  }
}

function liftJson(p: Period, cells: readonly LiftCell[]) {
  const byPeriod = new Map<number, LiftCell[]>();
  for (const c of cells) byPeriod.set(c.period.getTime(), [...(byPeriod.get(c.period.getTime()) ?? []), c]);
  return {
    object: 'lift' as const,
    from: iso(p.from),
    to: iso(p.to),
    interval: p.interval,
    totals: figures(cells),
    periods: [...byPeriod.entries()].map(([start, list]) => ({ start: iso(new Date(Math.max(start, p.from.getTime()))), end: iso(periodEnd(new Date(start), p.interval, p.to)), currencies: figures(list) })),
  };
}

function answer(outcome: ExecuteOutcome) {
  const recovery = recoveryJson(outcome.record);
  switch (outcome.kind) {
    case 'recovered':
      return withStatus(200, {
        success: true,
        recovered: true,
        transactionId: recovery.transactionId,
        recoveryId: recovery.id,
        attempts: recovery.attempts,
        message: `Recovered by an immediate retry after ${recovery.originalDeclineCode}.`,
        recovery,
      });
    case 'queued':
      return withStatus(202, {
        success: false,
        queued: true,
        message: `Recovery queued: next retry at ${recovery.nextRetryAt}. ${recovery.prediction.reasoning}`,
        recoveryId: recovery.id,
        nextRetryAt: recovery.nextRetryAt,
        recoveryScore: recovery.prediction.recoveryScore,
        recovery,
      });
    case 'blocked': {
      const reason = recovery.endReason ?? 'hard_decline';
      const why = reason === 'network_rule'
        ? 'a card network retry limit forbids retrying this card, and no fallback payment method could be charged'
        : `${outcome.record.record.payment.failure_message ?? 'the decline is final'}`;
      throw new RescueError('recovery_blocked', `Not retried: ${why}`, undefined, { success: false, blocked: true, recoveryId: recovery.id, reason, declineCode: recovery.lastDeclineCode, recovery });
    }
    case 'duplicate':
      throw new RescueError(
        'recovery_duplicate',
        `idempotencyKey '${recovery.idempotencyKey}' was already used by recovery ${recovery.id} (status ${recovery.status}).`,
        'idempotencyKey',
        { success: false, duplicate: true, existingTransactionId: recovery.transactionId, recoveryId: recovery.id, status: recovery.status, recovery },
      );
  }
}

interface Period {
  from: Date;
  to: Date;
  interval: LiftInterval;
}

function periodOf(q: { from?: Date | undefined; to?: Date | undefined; interval?: LiftInterval | undefined }, now: Date, defaultInterval: LiftInterval): Period {
  const to = q.to ?? now;
  const from = q.from ?? new Date(to.getTime() - 30 * DAY_MS);
  const interval = q.interval ?? defaultInterval;
  if (from.getTime() >= to.getTime()) throw new RescueError('parameter_invalid', 'from must be before to.', 'from');
  const spanDays = (to.getTime() - from.getTime()) / DAY_MS;
  const periods = interval === 'day' ? spanDays : interval === 'week' ? spanDays / 7 : spanDays / 28;
  if (periods > MAX_PERIODS) throw new RescueError('parameter_invalid', `At most ${MAX_PERIODS} periods per request: choose a longer interval or a shorter range.`, 'interval');
  return { from, to, interval };
}

function periodEnd(start: Date, interval: LiftInterval, to: Date): Date {
  const d = new Date(start);
  if (interval === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else if (interval === 'week') d.setUTCDate(d.getUTCDate() + 7);
  else d.setUTCMonth(d.getUTCMonth() + 1);
  return d.getTime() < to.getTime() ? d : to;
}

const pct = percentOf;

/** Per currency: Lift = recovered ÷ organic revenue, as a percentage; recovery rate over the payments that failed. */
function figures(cells: readonly LiftCell[]) {
  const byCurrency = new Map<string, LiftCell>();
  for (const c of cells) {
    const t = byCurrency.get(c.currency);
    if (!t) byCurrency.set(c.currency, { ...c });
    else for (const k of ['organicCount', 'organicAmount', 'recoveredCount', 'recoveredAmount', 'failedCount', 'failedAmount', 'failedRecoveredCount', 'failedRecoveredAmount'] as const) t[k] += c[k];
  }
  return [...byCurrency.values()]
    .sort((a, b) => a.currency.localeCompare(b.currency))
    .map((t) => ({
      currency: t.currency,
      organicRevenue: t.organicAmount,
      organicCount: t.organicCount,
      recoveredRevenue: t.recoveredAmount,
      recoveredCount: t.recoveredCount,
      liftPercent: pct(t.recoveredAmount, t.organicAmount),
      failedRevenue: t.failedAmount,
      failedCount: t.failedCount,
      failedRecoveredCount: t.failedRecoveredCount,
      failedRecoveredRevenue: t.failedRecoveredAmount,
      recoveryRate: pct(t.failedRecoveredCount, t.failedCount),
      recoveryRateByAmount: pct(t.failedRecoveredAmount, t.failedAmount),
    }));
}

function experimentJson(arms: Awaited<ReturnType<typeof experimentArms>>, controlGroupPercent: number) {
  const arm = (g: 'treatment' | 'control') => arms.find((a) => a.group === g)!;
  const t = arm('treatment');
  const c = arm('control');
  const diff = newcombeDifference(t.recovered, t.decided, c.recovered, c.decided, Z95);
  const group = (a: typeof t) => ({
    handOffs: a.handOffs,
    decided: a.decided,
    pending: a.handOffs - a.decided,
    recovered: a.recovered,
    recoveryRate: pct(a.recovered, a.decided),
    recoveredRevenue: a.recoveredAmounts,
  });
  const points = (x: number) => Math.round(x * 10_000) / 100;
  return {
    controlGroupPercent,
    treatment: group(t),
    control: group(c),
    // Percentage points the automatic policy adds over the fixed schedule, among decided hand-offs.
    incrementalRecoveryRate: diff
      ? {
          estimate: points(diff.estimate),
          low: points(diff.low),
          high: points(diff.high),
          confidence: 0.95,
          method: 'newcombe_hybrid_score',
        }
      : null,
    significant: diff ? diff.low > 0 || diff.high < 0 : false,
  };
}
