import type { Db } from '../store/db.ts';
import { recordModel, retireActiveModel } from '../store/models.ts';
import type { ModelRow } from '../store/schema.ts';
import type { Evaluation } from './metrics.ts';
import { learnPaydayMix } from './learn-payday-mix.ts';
import { evaluateModel, groupsBeatingPrior, trainRetryModel, type Example } from './retry-model.ts';
import { PRIOR_RETRY_MODEL, retryModelFor } from './scorers.ts';
import { loadRetryExamples } from './training-data.ts';

// `rescue train`: retrain an account's retry-timing model on its own attempts up to `now` (its
// clock: a backtest on a test clock learns only from what had happened by then). The new version is
// judged on the latest held-out retries against the incumbent (the active model, or the prior) and
// replaces it only if its Brier score is no worse; otherwise it is stored as a candidate.

export const MIN_TRAINING_RETRIES = 200;

export type TrainOutcome =
  | { status: 'skipped'; reason: string; examples: number }
  | {
    status: 'activated' | 'kept_incumbent'; model: ModelRow; evaluation: Evaluation; incumbent: Evaluation; baseline: Evaluation; examples: number;
    /** The pay-calendar mixture activated by this retraining, if one won its test (judgePaydayMix). */
    paydayMix: ModelRow | null;
  };

export async function trainRetryTiming(db: Db, o: { accountId: string; livemode: boolean; now: Date; minExamples?: number; testClock?: string | null }): Promise<TrainOutcome> {
  const examples = await loadRetryExamples(db, o.accountId, o.livemode, o.now, o.testClock);
  const min = o.minExamples ?? MIN_TRAINING_RETRIES;
  if (examples.length < min) return { status: 'skipped', reason: `${examples.length} finished retries; ${min} needed`, examples: examples.length };
  const result = trainRetryModel(examples);
  const incumbent = await retryModelFor(db, o.accountId, o.livemode);
  const incumbentEval = evaluateModel(incumbent.model, result.heldOut);
  const better = result.evaluation.brier <= incumbentEval.brier;
  const params = { ...result.model, freeGroups: groupsBeatingPrior(result.model, PRIOR_RETRY_MODEL, result.heldOut) };
  const model = await recordModel(db, {
    accountId: o.accountId,
    livemode: o.livemode,
    kind: 'retry_timing',
    params,
    metrics: { model: result.evaluation, incumbent: incumbentEval, incumbent_id: incumbent.modelId, baseline: result.baseline, examples: examples.length, held_out: result.heldOut.length },
    trainedAt: o.now,
    activate: better,
  });
  const paydayMix = await judgePaydayMix(db, o, examples, result.heldOut);
  return { status: better ? 'activated' : 'kept_incumbent', model, evaluation: result.evaluation, incumbent: incumbentEval, baseline: result.baseline, examples: examples.length, paydayMix };
}

/**
 * The account's pay-calendar mixture, judged at every retraining against the usual calendars of
 * each card's country (usualPaydayMix, what times a customer without a calendar of their own until
 * then): a winner becomes the active mixture, a loser retires the active one (the latest judgement
 * stands). Null: too little to judge.
 */
async function judgePaydayMix(db: Db, o: { accountId: string; livemode: boolean; now: Date }, examples: readonly Example[], heldOut: readonly Example[]): Promise<ModelRow | null> {
  const judged = learnPaydayMix(examples, heldOut);
  if (!judged) return null;
  if (!judged.mix) {
    await retireActiveModel(db, o.accountId, o.livemode, 'payday_mix');
    return null;
  }
  return recordModel(db, {
    accountId: o.accountId,
    livemode: o.livemode,
    kind: 'payday_mix',
    params: judged.mix,
    metrics: { model: judged.evaluation, incumbent: judged.incumbent, cards: judged.mix.cards },
    trainedAt: o.now,
    activate: true,
  });
}
