import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { isValidTimeZone } from '../domain/local-time.ts';
import { MAX_AMOUNT, normalizeCurrency } from '../domain/money.ts';
import type { PlanInput } from '../domain/schedule-policy.ts';
import { PAYMENT_METHOD_TYPES } from '../domain/wallets.ts';
import { predictChurn, trainChurn } from '../predict/churn.ts';
import { localClock, type CardContext } from '../predict/features.ts';
import { learnedPlan, nextRetryValues, type LearnedContext } from '../predict/learned-policy.ts';
import { fitPayday } from '../predict/payday.ts';
import { DEFAULT_RISK_THRESHOLD, predictRisk } from '../predict/risk.ts';
import { plannerContext, plannerModelFor, scorerFactoryFor } from '../predict/scorers.ts';
import { getCustomer } from '../store/customers.ts';
import type { Scope } from '../store/payments.ts';
import { getSettings } from '../store/settings.ts';
import { cardHistory, customerPayments, customerRetryHistory, getRiskThreshold, recordRisk, rescuesByCustomer, setRiskThreshold } from '../store/predictions.ts';
import { BodyInstant } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

// Revtain's prediction API (seeds 000 and 004): pre-charge risk, the best time to retry, churn this
// month. The models and their thresholds are described in docs/prediction.md.

const Token = z.string().min(1).max(255);
const Currency = z.string().transform((c, ctx) => normalizeCurrency(c) ?? (ctx.addIssue({ code: 'custom', message: `unknown currency '${c}' (ISO 4217 code expected)` }), z.NEVER));
const Amount = z.number().int('amount must be an integer in the currency\'s minor unit').positive('amount must be positive').max(MAX_AMOUNT);
const TimeZone = z.string().refine((tz) => !/^[+-]/.test(tz) && isValidTimeZone(tz), { message: 'must be an IANA time zone such as America/New_York' });
const Instant = BodyInstant;

export const RiskBody = z.strictObject({ paymentMethodToken: Token, amount: Amount, currency: Currency });

/**
 * The customer whose behaviour informs the retry time (seed 000: "optimal timing ... based on customer
 * behavior", "predictive based on Stripe customer history"): a customer of the account by id (its zone,
 * signup and recovered payments are read from Rescue), or its history given inline.
 */
export const RetryTimeCustomer = z.union([
  z.string().min(1).max(100),
  z.strictObject({
    /** The customer's IANA time zone: local paydays, quiet hours and limit resets follow it. */
    timezone: TimeZone.optional(),
    /** When the customer signed up (Unix seconds or ISO 8601): its tenure. */
    createdAt: Instant.optional(),
    /** When its earlier failed payments were recovered (Unix seconds or ISO 8601): its pay calendar. */
    recoveredPayments: z.array(Instant).max(500).optional(),
  }),
]);

export const RetryTimeBody = z.strictObject({
  declineCode: z.string().min(1).max(100),
  amount: Amount,
  currency: Currency,
  /** The card whose history (payday pattern, brand, zone) informs the prediction. */
  paymentMethodToken: Token.optional(),
  adviceCode: z.string().regex(/^\d{2}$/, 'adviceCode must be a two-digit Mastercard Merchant Advice Code').optional(),
  /** When the payment failed (Unix seconds or ISO 8601); default now. */
  failedAt: Instant.optional(),
  timezone: TimeZone.optional(),
  cardBrand: z.enum(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'unknown']).optional(),
  paymentMethodType: z.enum(PAYMENT_METHOD_TYPES).optional(),
  /** The card's funding; default the token's history, else unknown. */
  cardFunding: z.enum(['credit', 'debit', 'prepaid', 'unknown']).optional(),
  /** The card's issuing country (ISO 3166-1 alpha-2); compared with US (domestic). */
  cardCountry: z.string().regex(/^[A-Za-z]{2}$/, 'cardCountry must be a two-letter ISO 3166-1 country code').optional(),
  /** The account updater (or the customer) replaced the card since the decline. */
  cardWasUpdated: z.boolean().optional(),
  /** The customer (an id, or its history inline); explicit fields above win over what it says. */
  customer: RetryTimeCustomer.optional(),
  retriesMade: z.number().int().min(0).max(20).default(0),
  maxRetries: z.number().int().min(1).max(20).default(4),
  retryWindowDays: z.number().int().min(1).max(60).default(14),
});

export const ChurnBody = z.strictObject({ customer: z.string().min(1).max(100) });

// Kept to the hundredth: the column is a `real`, which cannot hold what a double can (2.5e-323 is an
// underflow error in Postgres), and no threshold needs more.
export const PredictionSettingsBody = z.strictObject({ risk_threshold: z.number().min(0).max(100).transform((x) => Math.round(x * 100) / 100) });

const DAY_MS = 86_400_000;

export function registerPredict(app: FastifyInstance, ctx: AppContext) {
  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/api/predict/risk', response: R.RiskPrediction, summary: 'Score the risk (0-100) that charging this payment method now declines, with a recommendation', tag: 'Prediction', auth: true, body: RiskBody },
    async ({ body, principal }) => {
      const history = await cardHistory(ctx.db, principal, body.paymentMethodToken);
      const now = history.testClockTime ?? ctx.clock.now();
      const score = (await scorerFactoryFor(ctx.db, principal.accountId, principal.livemode))(body.paymentMethodToken);
      const prediction = predictRisk({ brand: history.brand, paymentMethodType: history.paymentMethodType, history: history.attempts, amount: body.amount, now, timezone: history.timezone, score, card: history.card });
      if (history.stored) {
        const threshold = await getRiskThreshold(ctx.db, principal, DEFAULT_RISK_THRESHOLD);
        await recordRisk(ctx.db, principal, {
          token: body.paymentMethodToken,
          riskScore: prediction.riskScore,
          threshold,
          now,
          data: { customerId: history.customerId, paymentMethod: history.paymentMethod, riskScore: prediction.riskScore, threshold, recommendation: prediction.recommendation, reasoning: prediction.reasoning, amount: body.amount, currency: body.currency },
        });
      }
      return { success: true, prediction };
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/api/predict/retry-time', response: R.RetryTimePrediction, summary: 'The best time to retry a declined payment, its predicted probability, the next best alternatives and the reasoning', tag: 'Prediction', auth: true, body: RetryTimeBody },
    async ({ body, principal }) => {
      const history = body.paymentMethodToken ? await cardHistory(ctx.db, principal, body.paymentMethodToken) : null;
      const customer = await retryTimeCustomer(ctx, principal, body.customer);
      const now = history?.testClockTime ?? customer.testClockTime ?? ctx.clock.now();
      const failedAt = body.failedAt ?? now;
      const brand = (body.cardBrand ?? history?.brand ?? 'unknown') as CardBrand;
      const timezone = body.timezone ?? customer.timezone ?? history?.timezone ?? 'UTC';
      const paymentMethodType = body.paymentMethodType ?? history?.paymentMethodType ?? 'card';
      const decline = classifyDecline({ code: body.declineCode, adviceCode: body.adviceCode ?? null, brand, count: false });
      // The pay calendar: the card's recovered retries and the customer's recovered payments, on the customer's local days.
      const recovered = new Set([
        ...(history?.attempts ?? []).filter((a) => a.status === 'succeeded' && a.number > 1).map((a) => a.at.getTime()),
        ...customer.recoveredAt.map((d) => d.getTime()),
      ]);
      const successDays = [...recovered].map((ms) => localClock(ms, timezone).day);
      // The account's model and price of time, as the engine plans with them (predict/planning.ts).
      const planner = await plannerModelFor(ctx.db, principal.accountId, principal.livemode);
      const settings = await getSettings(ctx.db, principal.accountId, principal.livemode);
      const input: PlanInput = {
        decline,
        failedAt,
        rescueStartedAt: failedAt,
        windowEndsAt: new Date(failedAt.getTime() + body.retryWindowDays * DAY_MS),
        retriesLeft: Math.max(0, body.maxRetries - body.retriesMade),
        retriesMade: body.retriesMade,
        timezone,
        schedule: { kind: 'automatic' },
      };
      const card: CardContext = {
        ...history?.card,
        ...(customer.createdAt ? { customerCreatedAtMs: customer.createdAt.getTime() } : {}),
        ...(body.cardFunding ? { funding: body.cardFunding === 'unknown' ? null : body.cardFunding } : {}),
        ...(body.cardCountry ? { cardCountry: body.cardCountry.toUpperCase() } : {}),
        ...(body.cardWasUpdated !== undefined ? { cardWasUpdated: body.cardWasUpdated } : {}),
      };
      const lc: LearnedContext = {
        ...plannerContext(planner, body.paymentMethodToken ?? '', card.cardCountry),
        dailyChurnHazard: settings.autoRescue.daily_churn_hazard,
        amount: body.amount, brand, paymentMethodType, payday: fitPayday(successDays), card, explorationKey: 'api', explorationShare: 0,
      };
      const plan = learnedPlan(input, lc);
      // The recommendation is the plan's first retry, as the engine will make it (nextRetryValues says
      // which instant that is and what it is worth); the alternatives are the next best instants, not
      // within 6 h of it, ranked by the same value and never worth more.
      const next = plan.length === 0 ? null : nextRetryValues(input, lc);
      const alternatives = !next ? [] : next.alternatives
        .filter((a) => Math.abs(a.at - next.planned.at) >= 6 * 3_600_000)
        .slice(0, 3)
        .map((a) => ({ time: iso(new Date(a.at)), probability: round4(a.p), value: round4(a.value) }));
      const first = plan[0];
      return {
        success: true,
        prediction: {
          recommendedTime: first ? iso(first.at) : null,
          probability: first ? round4(first.p) : 0,
          value: next ? round4(next.planned.value) : 0,
          alternatives,
          reasoning: first ? first.reason : decline.category === 'hard' || decline.strategy === 'never'
            ? `${decline.code.replaceAll('_', ' ')} is a hard decline: retrying cannot recover it.`
            : 'no time left in the window has a chance worth an attempt.',
          schedule: plan.map((s) => ({ time: iso(s.at), probability: round4(s.p), reason: s.reason })),
          model: planner.modelId,
        },
      };
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/api/predict/churn', response: R.ChurnPrediction, summary: 'The probability that a customer is lost this month through failed payments, a score and the top drivers', tag: 'Prediction', auth: true, body: ChurnBody },
    async ({ body, principal }) => {
      await getCustomer(ctx.db, principal, body.customer, 'customer');
      const model = trainChurn(await rescuesByCustomer(ctx.db, principal));
      const rescues = (await rescuesByCustomer(ctx.db, principal, { customer: body.customer })).get(body.customer) ?? [];
      const payments = await customerPayments(ctx.db, principal, body.customer);
      const prediction = predictChurn({ rescues, payments: payments.payments, failedPayments: payments.failed, typicalAmount: payments.typicalAmount, model });
      return { success: true, prediction: { customer: body.customer, ...prediction, model: { source: model.source, examples: model.examples, labels: 'finished rescues: exhausted or cancelled = lost, recovered = kept' } } };
    },
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/prediction', response: R.PredictionSettings, summary: 'Prediction settings: the risk threshold of predict.risk.high', tag: 'Settings', auth: true }, async ({ principal }) => ({
    object: 'prediction_settings',
    livemode: principal.livemode,
    risk_threshold: await getRiskThreshold(ctx.db, principal, DEFAULT_RISK_THRESHOLD),
  }));

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/prediction', response: R.PredictionSettings, summary: 'Set the risk score (0-100) at which a stored payment method emits predict.risk.high', tag: 'Settings', auth: true, body: PredictionSettingsBody },
    async ({ body, principal }) => {
      await setRiskThreshold(ctx.db, principal, body.risk_threshold, ctx.clock.now());
      return { object: 'prediction_settings', livemode: principal.livemode, risk_threshold: body.risk_threshold };
    },
  );
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

interface CustomerFacts {
  timezone: string | null;
  createdAt: Date | null;
  recoveredAt: Date[];
  testClockTime: Date | null;
}

/** The retry-time body's `customer`: a customer of the account (404 when unknown), or its history inline. */
async function retryTimeCustomer(ctx: AppContext, scope: Scope, customer: z.infer<typeof RetryTimeCustomer> | undefined): Promise<CustomerFacts> {
  if (customer === undefined) return { timezone: null, createdAt: null, recoveredAt: [], testClockTime: null };
  if (typeof customer === 'object') return { timezone: customer.timezone ?? null, createdAt: customer.createdAt ?? null, recoveredAt: customer.recoveredPayments ?? [], testClockTime: null };
  const row = await getCustomer(ctx.db, scope, customer, 'customer');
  const history = await customerRetryHistory(ctx.db, scope, customer);
  return { timezone: row.timezone, createdAt: row.created_at, recoveredAt: history.recoveredAt, testClockTime: history.testClockTime };
}


