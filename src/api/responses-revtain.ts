import { z } from 'zod';
import { Int, Metadata, Timestamp } from './response-primitives.ts';

// Response bodies of Revtain's API (seed 004): recoveries, Lift, the predictions (re-exported by
// responses.ts, which says how these schemas are used).

export const RecoveryStatus = z.enum(['processing', 'queued', 'retrying', 'recovered', 'blocked', 'failed', 'cancelled']);

export const Recovery = z
  .object({
    id: z.string(),
    object: z.literal('recovery'),
    status: RecoveryStatus,
    amount: Int,
    currency: z.string(),
    originalDeclineCode: z.string().nullable(),
    declineCategory: z.string(),
    lastDeclineCode: z.string().nullable(),
    paymentMethodType: z.string(),
    cardOrigin: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    transactionId: z.string().nullable(),
    attempts: Int,
    maxRetries: Int.nullable(),
    nextRetryAt: Timestamp.nullable(),
    scheduledRetries: z.array(z.object({ retryNumber: Int, scheduledAt: Timestamp })),
    retryWindowEndsAt: Timestamp.nullable(),
    endReason: z.string().nullable(),
    endedAt: Timestamp.nullable(),
    experimentGroup: z.enum(['treatment', 'control']).nullable(),
    prediction: z.object({ recoveryScore: z.number(), reasoning: z.string().nullable() }),
    paymentMethods: z.array(
      z.object({
        position: Int,
        type: z.string(),
        gateway: z.string(),
        brand: z.string().nullable(),
        last4: z.string().nullable(),
        fingerprint: z.string().nullable(),
        status: z.enum(['pending', 'active', 'exhausted', 'succeeded', 'unused']),
      }),
    ),
    history: z.array(
      z.object({
        attempt: Int,
        attemptedAt: Timestamp.nullable(),
        result: z.enum(['succeeded', 'failed']),
        declineCode: z.string().nullable(),
        chargedBy: z.enum(['merchant', 'rescue']),
        paymentMethod: Int,
        gateway: z.string(),
      }),
    ),
    payment: z.string(),
    customer: z.string().nullable(),
    metadata: Metadata,
    livemode: z.boolean(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Recovery' });

export const RecoveryRetrieved = Recovery.extend({ success: z.literal(true) }).meta({ id: 'RecoveryRetrieved' });

export const RecoveryRecovered = z
  .object({ success: z.literal(true), recovered: z.literal(true), transactionId: z.string().nullable(), recoveryId: z.string(), attempts: Int, message: z.string(), recovery: Recovery })
  .meta({ id: 'RecoveryRecovered', description: '200: recovered by an immediate retry.' });

export const RecoveryQueued = z
  .object({ success: z.literal(false), queued: z.literal(true), message: z.string(), recoveryId: z.string(), nextRetryAt: Timestamp.nullable(), recoveryScore: z.number(), recovery: Recovery })
  .meta({ id: 'RecoveryQueued', description: '202: retries are planned; the result arrives as recovery.success, recovery.failed or recovery.blocked.' });

export const Pulse = z
  .object({ success: z.literal(true), duplicate: z.boolean(), transactionId: z.string(), amount: Int, currency: z.string(), recordedAt: Timestamp })
  .meta({ id: 'Pulse' });

const CurrencyFigures = z.object({
  currency: z.string(),
  organicRevenue: z.number(),
  organicCount: Int,
  recoveredRevenue: z.number(),
  recoveredCount: Int,
  liftPercent: z.number().nullable(),
  failedRevenue: z.number(),
  failedCount: Int,
  failedRecoveredCount: Int.meta({ description: 'Of the payments whose first attempt failed in the period, how many are recovered by now.' }),
  failedRecoveredRevenue: z.number().meta({ description: 'Their amount.' }),
  recoveryRate: z.number().nullable(),
  recoveryRateByAmount: z.number().nullable().meta({ description: 'failedRecoveredRevenue / failedRevenue, in percent.' }),
});

export const Lift = z
  .object({
    object: z.literal('lift'),
    from: Timestamp,
    to: Timestamp,
    interval: z.enum(['day', 'week', 'month']),
    totals: z.array(CurrencyFigures),
    periods: z.array(z.object({ start: Timestamp, end: Timestamp, currencies: z.array(CurrencyFigures) })),
  })
  .meta({ id: 'Lift' });

export const LiftAnswer = Lift.extend({ success: z.literal(true) }).meta({ id: 'LiftAnswer' });

export const RiskPrediction = z
  .object({
    success: z.literal(true),
    prediction: z.object({ riskScore: z.number(), recommendation: z.enum(['proceed', 'proceed_with_caution', 'delay', 'block']), reasoning: z.string() }),
  })
  .meta({ id: 'RiskPrediction' });

export const RetryTimePrediction = z
  .object({
    success: z.literal(true),
    prediction: z.object({
      recommendedTime: Timestamp.nullable(),
      probability: z.number(),
      value: z.number(),
      alternatives: z.array(z.object({ time: Timestamp, probability: z.number(), value: z.number() })),
      reasoning: z.string(),
      schedule: z.array(z.object({ time: Timestamp, probability: z.number(), reason: z.string() })),
      model: z.string(),
    }),
  })
  .meta({ id: 'RetryTimePrediction' });

export const ChurnPrediction = z
  .object({
    success: z.literal(true),
    prediction: z.object({
      customer: z.string(),
      churnProbability: z.number(),
      score: z.number(),
      drivers: z.array(z.object({ feature: z.string(), value: z.number(), effect: z.number(), description: z.string() })),
      reasoning: z.string(),
      model: z.object({ source: z.enum(['prior', 'account']), examples: Int, labels: z.string() }),
    }),
  })
  .meta({ id: 'ChurnPrediction' });
