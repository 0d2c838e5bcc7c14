import type { AutoRescueDefaults } from '../domain/auto-rescue-policy.ts';
import { resolveRescuePolicy } from '../domain/auto-rescue-policy.ts';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { DeclineInfo } from '../domain/decline-types.ts';
import { decideAfterFailure, windowEnd, type StopReason } from '../domain/rescue.ts';
import type { LearnedContext } from '../predict/learned-policy.ts';
import { fitPayday } from '../predict/payday.ts';
import { plannerContext, plannerModelFor } from '../predict/scorers.ts';
import type { Db } from '../store/db.ts';
import { plannerFor } from './outcome.ts';

// The retries Auto Rescue would plan for an example decline under some Auto Rescue defaults: the
// settings page's timeline. It runs the engine's own first-failure path (decideAfterFailure through
// plannerFor, learned or rule-based or custom), so what the merchant sees is what a rescue gets.

export interface ScheduleExample {
  declineCode: string;
  amount: number;
  timezone: string;
  failedAt: Date;
}

export interface SchedulePreview {
  planner: 'learned' | 'automatic' | 'custom';
  decline: DeclineInfo;
  windowEndsAt: Date;
  retries: { at: Date; p: number | null; reason: string | null }[];
  /** Why nothing is planned (a hard decline, say), else null. */
  stopReason: StopReason | null;
}

/** A card with no history: the learned model's view of an average customer. */
const EXAMPLE_CARD = 'pm_card_visa';

export async function previewSchedule(db: Db, accountId: string, livemode: boolean, defaults: AutoRescueDefaults, ex: ScheduleExample): Promise<SchedulePreview> {
  const policy = resolveRescuePolicy({ enabled: true }, { amount: ex.amount, offSession: true, metadata: {} }, defaults)!;
  const decline = classifyDecline({ code: ex.declineCode, count: false });
  const useLearned = defaults.learned && policy.schedule.kind === 'automatic';
  const learned = useLearned ? await learnedExample(db, accountId, livemode, defaults, ex.amount) : undefined;
  const { plan, slots } = plannerFor({ learned });
  const windowEndsAt = windowEnd(ex.failedAt, policy.retryWindowDays);
  const decision = decideAfterFailure(decline, ex.failedAt, { maxRetries: policy.maxRetries, retriesMade: 0, startedAt: ex.failedAt, windowEndsAt, timezone: ex.timezone, schedule: policy.schedule }, plan);
  const planner = policy.schedule.kind === 'custom' ? 'custom' : useLearned ? 'learned' : 'automatic';
  if (decision.kind === 'stop') return { planner, decline, windowEndsAt, retries: [], stopReason: decision.reason };
  const retries = decision.plan.map((at) => {
    const slot = slots.get(at.getTime());
    return { at, p: slot?.p ?? null, reason: slot?.reason ?? null };
  });
  return { planner, decline, windowEndsAt, retries, stopReason: null };
}

async function learnedExample(db: Db, accountId: string, livemode: boolean, defaults: AutoRescueDefaults, amount: number): Promise<LearnedContext> {
  const model = await plannerModelFor(db, accountId, livemode);
  return {
    ...plannerContext(model, EXAMPLE_CARD),
    amount,
    brand: 'visa',
    paymentMethodType: 'card',
    payday: fitPayday([]),
    explorationKey: 'schedule_preview',
    dailyChurnHazard: defaults.daily_churn_hazard,
  };
}
