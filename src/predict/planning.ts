import { sql } from 'kysely';
import type { Db } from '../store/db.ts';
import type { AttemptContext } from '../store/attempts.ts';
import type { AttemptRow } from '../store/schema.ts';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { getSettingsFor, settingsKey, type AccountSettings } from '../store/settings.ts';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { strategyForPaymentMethod } from '../domain/wallets.ts';
import { declineGroup, localClock } from './features.ts';
import type { LearnedContext } from './learned-policy.ts';
import { fitPayday } from './payday.ts';
import { plannerContext, plannerModelFor, type PlannerModel } from './scorers.ts';

// What the learned schedule needs beyond the planner's input, loaded in a few set-based reads for a
// batch of declined attempts: whether the account turned it on (`auto_rescue.learned`), its model,
// each card's recovered retries (its payday history), and whether the rescue's card was replaced.

export interface PlanningItem {
  attempt: AttemptRow;
  ctx: AttemptContext;
  paymentMethod: string;
}

function isAutomatic(item: PlanningItem): boolean {
  if (item.attempt.number === 1) return (item.ctx.payment.rescue_policy as RescuePolicy | null)?.schedule.kind === 'automatic';
  return item.ctx.rescue?.retry_schedule === 'automatic';
}

/**
 * `settings`: the accounts' settings the caller already read for this request or batch (by
 * `settingsKey`); any account missing from it is read here, all in one query.
 */
export async function learnedContexts(db: Db, items: readonly PlanningItem[], o: { settings?: ReadonlyMap<string, AccountSettings> } = {}): Promise<Map<string, LearnedContext>> {
  const out = new Map<string, LearnedContext>();
  const candidates = items.filter(isAutomatic);
  if (candidates.length === 0) return out;
  const scopes = new Map<string, { accountId: string; livemode: boolean }>();
  for (const i of candidates) scopes.set(`${i.attempt.account_id}|${i.attempt.livemode}`, { accountId: i.attempt.account_id, livemode: i.attempt.livemode });
  const missing = [...scopes].filter(([key]) => !o.settings?.has(key)).map(([, s]) => s);
  const read = missing.length ? await getSettingsFor(db, missing) : new Map<string, AccountSettings>();
  const hazards = new Map<string, number>();
  for (const [key, s] of scopes) {
    const settings = o.settings?.get(key) ?? read.get(settingsKey(s.accountId, s.livemode))!;
    if (settings.autoRescue.learned) hazards.set(key, settings.autoRescue.daily_churn_hazard);
  }
  const learned = candidates.filter((i) => hazards.has(`${i.attempt.account_id}|${i.attempt.livemode}`));
  if (learned.length === 0) return out;
  // The accounts' models and the cards' facts, sent at once.
  const [models, rows] = await Promise.all([
    Promise.all([...hazards].map(async ([key, hazard]) => {
      const s = scopes.get(key)!;
      return [key, { ...(await plannerModelFor(db, s.accountId, s.livemode)), hazard }] as const;
    })),
    cardFacts(db, learned),
  ]);
  const factories = new Map<string, PlannerModel & { hazard: number }>(models);
  const successes = new Map<string, Date[]>();
  const updatedPayments = new Set<string>();
  const failedNsf = new Map<string, Set<number>>();
  const addFailedNsf = (key: string, at: Date, code: string | null, advice: string | null, brand: string, method: string) => {
    if (!isNsf(code, advice, brand, method)) return;
    failedNsf.set(key, (failedNsf.get(key) ?? new Set()).add(at.getTime()));
  };
  for (const r of rows) {
    const key = `${r.account_id}|${r.key}`;
    if (r.kind === 'replaced') {
      updatedPayments.add(key);
      continue;
    }
    if (r.kind === 'failed') {
      addFailedNsf(key, r.attempted_at!, r.decline_code, r.advice_code, r.card_brand!, r.payment_method_type!);
      continue;
    }
    const list = successes.get(key) ?? [];
    list.push(r.attempted_at!);
    successes.set(key, list);
  }
  for (const i of learned) {
    const tz = i.ctx.customer?.timezone ?? 'UTC';
    const days = (successes.get(`${i.attempt.account_id}|${i.attempt.card_fingerprint}`) ?? []).map((d) => localClock(d.getTime(), tz).day);
    const model = factories.get(`${i.attempt.account_id}|${i.attempt.livemode}`)!;
    out.set(i.attempt.id, {
      ...plannerContext(model, i.paymentMethod, i.attempt.card_country),
      dailyChurnHazard: model.hazard,
      amount: i.ctx.payment.amount,
      brand: i.attempt.card_brand,
      paymentMethodType: i.attempt.payment_method_type,
      payday: fitPayday(days),
      card: {
        funding: i.attempt.card_funding,
        cardCountry: i.attempt.card_country,
        customerCreatedAtMs: i.ctx.customer?.created_at.getTime() ?? null,
        cardWasUpdated: i.attempt.card_was_updated || updatedPayments.has(`${i.attempt.account_id}|${i.attempt.payment_id}`),
      },
      explorationKey: i.attempt.payment_id,
      failedNsfRetries: [...(failedNsf.get(`${i.attempt.account_id}|${i.attempt.payment_id}`) ?? [])].sort((a, b) => a - b),
    });
  }
  return out;
}

/** Whether a failed attempt's decline was for insufficient funds (the group the calendar mixture times). */
function isNsf(code: string | null, advice: string | null, brand: string, method: string): boolean {
  if (code === null) return false;
  const decline = strategyForPaymentMethod(classifyDecline({ code, adviceCode: advice, brand: brand as CardBrand, count: false }), method);
  return declineGroup(decline.code, decline.strategy) === 'nsf';
}

/**
 * Three reads in one round trip: each card's recovered retries (its payday history), the payments
 * whose card was replaced earlier in the rescue (it stays replaced for every later retry;
 * training-data.ts reads it the same way), and each rescue's failed retries (what the account's
 * calendar mixture learns from within a rescue).
 */
async function cardFacts(db: Db, learned: readonly PlanningItem[]) {
  const accountIds = [...new Set(learned.map((i) => i.attempt.account_id))];
  const paymentIds = [...new Set(learned.map((i) => i.attempt.payment_id))];
  const result = await sql<{ kind: 'success' | 'replaced' | 'failed'; account_id: string; key: string; attempted_at: Date | null; decline_code: string | null; advice_code: string | null; card_brand: string | null; payment_method_type: string | null }>`
    select 'success' as kind, account_id, card_fingerprint as key, attempted_at, null as decline_code, null as advice_code, null as card_brand, null as payment_method_type from attempts
    where account_id = any(${accountIds})
      and card_fingerprint = any(${[...new Set(learned.map((i) => i.attempt.card_fingerprint))]})
      and status = 'succeeded' and number > 1
    union all
    select distinct 'replaced' as kind, account_id, payment_id as key, null::timestamptz as attempted_at, null, null, null, null from attempts
    where account_id = any(${accountIds})
      and payment_id = any(${paymentIds})
      and card_was_updated
    union all
    select 'failed' as kind, account_id, payment_id as key, attempted_at, decline_code, advice_code, card_brand, payment_method_type from attempts
    where account_id = any(${accountIds})
      and payment_id = any(${paymentIds})
      and status = 'failed' and number > 1 and attempted_at is not null`.execute(db);
  return result.rows;
}
