import { z } from 'zod';
import { DEFINITIONS } from '../domain/analytics.ts';

// GET /api/dashboard's answer, for the OpenAPI document: each field described by the same sentence
// the analytics page prints (src/domain/analytics.ts), so the two cannot drift apart.

const Pct = z.number().nullable().describe('A percentage to two decimals; null when nothing was counted.');
const Minor = z.number().int().describe('An amount in the currency\'s minor unit.');

const CurrencyFigures = z.object({
  currency: z.string(),
  organicRevenue: Minor,
  organicCount: z.number().int(),
  recoveredRevenue: Minor,
  recoveredCount: z.number().int(),
  liftPercent: Pct.describe(DEFINITIONS.lift),
  failedRevenue: Minor,
  failedCount: z.number().int(),
  failedRecoveredCount: z.number().int(),
  failedRecoveredRevenue: Minor,
  recoveryRate: Pct.describe(DEFINITIONS.recoveryRate),
  recoveryRateByAmount: Pct.describe(DEFINITIONS.recoveryRateByAmount),
});

const Lift = z.object({
  object: z.literal('lift'),
  from: z.string(),
  to: z.string(),
  interval: z.enum(['day', 'week', 'month']),
  totals: z.array(CurrencyFigures),
  periods: z.array(z.object({ start: z.string(), end: z.string(), currencies: z.array(CurrencyFigures) })),
});

const Arm = z.object({ handOffs: z.number().int(), decided: z.number().int(), pending: z.number().int(), recovered: z.number().int(), recoveryRate: Pct, recoveredRevenue: z.record(z.string(), Minor) });

export const DashboardResponse = z.object({
  success: z.literal(true),
  object: z.literal('dashboard'),
  livemode: z.boolean(),
  currency: z.string().nullable().describe(DEFINITIONS.period),
  currencies: z.array(z.string()).describe('Every currency with payments or pulses in the period, whatever currency was asked for.'),
  lift: Lift,
  paymentMethodTypes: z.array(z.object({ type: z.string(), handOffs: z.number().int(), decided: z.number().int(), recovered: z.number().int(), recoveryRate: Pct })),
  experiment: z
    .object({
      controlGroupPercent: z.number(),
      treatment: Arm,
      control: Arm,
      incrementalRecoveryRate: z.object({ estimate: z.number(), low: z.number(), high: z.number(), confidence: z.number(), method: z.string() }).nullable(),
      significant: z.boolean(),
    })
    .describe(DEFINITIONS.incrementalRecovery),
  mrrRecovered: z
    .array(z.object({ month: z.string().describe('YYYY-MM (UTC)'), currency: z.string(), recoveredCount: z.number().int(), recoveredRevenue: Minor }))
    .describe(DEFINITIONS.mrrRecovered),
  retrySuccessByAttempt: z
    .array(z.object({ attempt: z.number().int().describe('1 is the first charge, 2 the first retry'), made: z.number().int(), succeeded: z.number().int(), successRate: Pct }))
    .describe(DEFINITIONS.retrySuccessByAttempt),
  recoveryByDeclineCode: z
    .array(z.object({ declineCode: z.string(), declineCategory: z.string(), failed: z.number().int(), recovered: z.number().int(), recoveryRate: Pct }))
    .describe(DEFINITIONS.recoveryByDeclineCode),
  recoveryByDeclineCategory: z
    .array(z.object({ declineCategory: z.string(), failed: z.number().int(), recovered: z.number().int(), recoveryRate: Pct }))
    .describe(DEFINITIONS.recoveryByDeclineCode),
  recoveredInPeriod: z.number().int().describe('Rescues that ended recovered in the period (the days-to-recover population).'),
  averageDaysToRecover: z.number().nullable().describe(DEFINITIONS.daysToRecover),
  medianDaysToRecover: z.number().nullable().describe(DEFINITIONS.daysToRecover),
  customersAtRisk: z
    .array(
      z.object({
        customer: z.string(),
        email: z.string().nullable(),
        name: z.string().nullable(),
        activeRescues: z.number().int(),
        churnScore: z.number().describe('0-100: the churn probability × 100'),
        churnProbability: z.number(),
        topDriver: z.string().nullable(),
      }),
    )
    .describe(DEFINITIONS.customersAtRisk),
  webhookHealth: z
    .object({ succeeded: z.number().int(), failed: z.number().int(), pending: z.number().int(), successRate: Pct, endpoints: z.number().int(), disabledEndpoints: z.number().int() })
    .describe(DEFINITIONS.webhookHealth),
});

export type DashboardAnswer = z.infer<typeof DashboardResponse>;
