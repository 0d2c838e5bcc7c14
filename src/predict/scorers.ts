import type { Db } from '../store/db.ts';
import { activeModel } from '../store/models.ts';
import prior from './prior-retry-timing.json' with { type: 'json' };
import { PLAN_RESOLUTION, type LearnedContext, type Scorer } from './learned-policy.ts';
import { declineGroup, type DeclineGroup } from './features.ts';
import { retryScorer, type RetryModel } from './retry-model.ts';
import type { PaydayMix } from './payday-mix.ts';
import { usualPaydayMix } from './usual-paydays.ts';

// Which retry-timing model scores an account's plans: its active trained model, else the prior
// trained on the sandbox network that ships with Rescue (bench/train-prior.ts regenerates it).

export const PRIOR_RETRY_MODEL: RetryModel = { kind: 'retry_timing', weights: prior.weights, platt: prior.platt, trainedOn: prior.trainedOn };

/** A scorer per payment method (the oracle of the recovery benchmark needs to know the card). */
export type ScorerFactory = (paymentMethod: string) => Scorer;

export interface ModelChoice {
  /** The models-table id, or 'prior'. */
  modelId: string;
  model: RetryModel;
}

const priorScorer = retryScorer(PRIOR_RETRY_MODEL);
const scorerCache = new Map<string, Scorer>();

// Benchmark hook: the recovery benchmark runs Rescue in-process and plugs an oracle (which reads the
// sandbox's hidden state) into one account. Nothing in Rescue sets it.
const overrides = new Map<string, ScorerFactory>();
export function overrideRetryScorer(accountId: string, factory: ScorerFactory | null): void {
  if (factory) overrides.set(accountId, factory);
  else overrides.delete(accountId);
}

// Benchmark hook: the recovery benchmark scores a learned account by a twin that retries along the
// failing path (bench/recovery.ts); the twin plans with the model its sibling learned from real outcomes.
const sharedModels = new Map<string, string>();
export function shareRetryModel(accountId: string, fromAccountId: string | null): void {
  if (fromAccountId) sharedModels.set(accountId, fromAccountId);
  else sharedModels.delete(accountId);
}

export async function retryModelFor(db: Db, accountId: string, livemode: boolean): Promise<ModelChoice> {
  const row = await activeModel(db, sharedModels.get(accountId) ?? accountId, livemode, 'retry_timing');
  return row ? { modelId: row.id, model: row.params as RetryModel } : { modelId: 'prior', model: PRIOR_RETRY_MODEL };
}

export async function scorerFactoryFor(db: Db, accountId: string, livemode: boolean): Promise<ScorerFactory> {
  const override = overrides.get(accountId);
  if (override) return override;
  const s = scorerOf(await retryModelFor(db, accountId, livemode));
  return () => s;
}

/** A model's scorer, built once per model version (the planner scores every candidate slot with it). */
function scorerOf(choice: ModelChoice): Scorer {
  if (choice.modelId === 'prior') return priorScorer;
  let scorer = scorerCache.get(choice.modelId);
  if (!scorer) {
    if (scorerCache.size > 1000) scorerCache.clear();
    scorer = retryScorer(choice.model);
    scorerCache.set(choice.modelId, scorer);
  }
  return scorer;
}

/** What the learned planner needs of an account's model: its scorer, where it may leave the seed table, and its name. */
export interface PlannerModel {
  factory: ScorerFactory;
  freeGroups: ReadonlySet<DeclineGroup> | 'all';
  label: string | undefined;
  /** The models-table id of the account's active model, 'prior', or 'override' (the benchmark's oracle). */
  modelId: string;
  /** Value differences its plans treat as ties (learned-policy.ts PLAN_RESOLUTION; 0 for the exact oracle). */
  resolution: number;
  /** The account's customers' pay calendars, when it has an active mixture (payday-mix.ts, paydayMixFor). */
  paydayMix?: PaydayMix;
  /** Without one, the usual calendars of each card's country (usual-paydays.ts usualPaydayMix); not for the benchmark's exact oracle. */
  usualPaydays?: boolean;
}

/**
 * What a plan takes from the account's model, in one place so the engine, the API and the preview
 * plan alike. Until the account's own pay-calendar mixture has won its test, the usual calendars of
 * the card's country time insufficient funds.
 */
export function plannerContext(model: PlannerModel, paymentMethod: string, cardCountry?: string | null): Pick<LearnedContext, 'score' | 'freeGroups' | 'modelLabel' | 'resolution' | 'paydayMix'> {
  const paydayMix = model.paydayMix ?? (model.usualPaydays ? usualPaydayMix(cardCountry) : undefined);
  return { score: model.factory(paymentMethod), freeGroups: model.freeGroups, modelLabel: model.label, resolution: model.resolution, ...(paydayMix ? { paydayMix } : {}) };
}

export async function plannerModelFor(db: Db, accountId: string, livemode: boolean): Promise<PlannerModel> {
  const override = overrides.get(accountId);
  // The benchmark's oracle knows the truth: nothing to hold it to the seed table.
  if (override) return { factory: override, freeGroups: 'all', label: undefined, modelId: 'override', resolution: 0 };
  const [choice, paydayMix] = await Promise.all([retryModelFor(db, accountId, livemode), paydayMixFor(db, accountId, livemode)]);
  const mix = { usualPaydays: true, ...(paydayMix ? { paydayMix } : {}) };
  if (choice.modelId === 'prior') return { factory: () => priorScorer, freeGroups: new Set(), label: undefined, modelId: 'prior', resolution: PLAN_RESOLUTION, ...mix };
  const free = new Set(choice.model.freeGroups ?? []);
  const scorer = perGroupScorer(scorerOf(choice), free);
  return { factory: () => scorer, freeGroups: free, label: "this account's own model", modelId: choice.modelId, resolution: PLAN_RESOLUTION, ...mix };
}

/** The account's active pay-calendar mixture (its own model kind, judged at retraining: train.ts), if any. */
export async function paydayMixFor(db: Db, accountId: string, livemode: boolean): Promise<PaydayMix | null> {
  const row = await activeModel(db, sharedModels.get(accountId) ?? accountId, livemode, 'payday_mix');
  return row ? (row.params as PaydayMix) : null;
}

/**
 * The account's model times the retries of the decline groups it has earned (it predicted their
 * held-out retries better than the prior: retry-model.ts groupsBeatingPrior); the prior times the
 * rest. An account's retries are where its own schedule put them, so a model that fits them as well
 * as the prior (what activation asks) can still be wrong about the times it never tried: in the
 * recovery benchmark an account's model moved generic declines' first retry from hours to a day
 * later with nothing to show for it (docs/prediction.md, "Which model times a retry").
 */
export function perGroupScorer(own: Scorer, free: ReadonlySet<DeclineGroup>): Scorer {
  if (free.size === 0) return priorScorer;
  return (f) => (free.has(declineGroup(f.declineCode, f.strategy)) ? own(f) : priorScorer(f));
}
