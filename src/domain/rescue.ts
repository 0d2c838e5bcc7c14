import type { DeclineInfo } from './decline-types.ts';
import type { RetrySchedule } from './auto-rescue-policy.ts';

// The rescue state machine as pure decisions (DESIGN.md "Lifecycle of a payment"). The engine
// applies them; nothing here reads a clock or a database.

export interface RescueBudget {
  maxRetries: number;
  retriesMade: number;
  startedAt: Date;
  windowEndsAt: Date;
  schedule: RetrySchedule;
  timezone: string;
}

/** Why a rescue (or a payment that never entered one) ended without the money. */
export type StopReason =
  | 'hard_decline'
  | 'auto_rescue_off'
  | 'max_retries'
  | 'window_closed'
  | 'network_rule'
  | 'no_retry_planned'
  /** The card needs new card data (domain/dead-card.ts) and none arrived inside the window. */
  | 'no_new_card';

export type FailureDecision =
  | { kind: 'retry'; plan: Date[] }
  | { kind: 'stop'; reason: StopReason };

/** A planner: the schedule policy, behind an interface so the learned model can replace it. */
export type Planner = (input: {
  decline: DeclineInfo;
  failedAt: Date;
  rescueStartedAt: Date;
  windowEndsAt: Date;
  retriesLeft: number;
  retriesMade: number;
  timezone: string;
  schedule: RetrySchedule;
}) => Date[];

/** After a declined attempt: plan the remaining retries, or stop and say why. */
export function decideAfterFailure(decline: DeclineInfo, failedAt: Date, budget: RescueBudget, plan: Planner): FailureDecision {
  if (decline.category === 'hard') return { kind: 'stop', reason: 'hard_decline' };
  const retriesLeft = budget.maxRetries - budget.retriesMade;
  if (retriesLeft <= 0) return { kind: 'stop', reason: 'max_retries' };
  if (failedAt.getTime() >= budget.windowEndsAt.getTime()) return { kind: 'stop', reason: 'window_closed' };
  const planned = plan({
    decline,
    failedAt,
    rescueStartedAt: budget.startedAt,
    windowEndsAt: budget.windowEndsAt,
    retriesLeft,
    retriesMade: budget.retriesMade,
    timezone: budget.timezone,
    schedule: budget.schedule,
  }).filter((at) => at.getTime() > failedAt.getTime() && at.getTime() <= budget.windowEndsAt.getTime());
  if (planned.length === 0) return { kind: 'stop', reason: 'no_retry_planned' };
  return { kind: 'retry', plan: planned.slice(0, retriesLeft) };
}

export function windowEnd(startedAt: Date, windowDays: number): Date {
  return new Date(startedAt.getTime() + windowDays * 86_400_000);
}

/** What the merchant is told when a rescue ends on a failure (`recommendation` in events). */
export function recommendationFor(reason: StopReason, decline: DeclineInfo | null): string {
  if (reason === 'network_rule') return 'Card network retry limit reached; ask the customer for another payment method';
  if (decline) return decline.recommendation;
  return 'Contact customer to update payment method';
}
