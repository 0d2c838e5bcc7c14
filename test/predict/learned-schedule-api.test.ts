import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localMinuteOfDay } from '../../src/domain/local-time.ts';
import { recordModel, activeModel, listModels } from '../../src/store/models.ts';
import { trainRetryTiming } from '../../src/predict/train.ts';
import { PRIOR_RETRY_MODEL } from '../../src/predict/scorers.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// The learned schedule through the API: an account turns it on with `auto_rescue.learned`, its
// plans carry a probability and a reason, the attempt rows store predicted_p, and training on the
// account's attempts keeps the better model.

const DAY = 86_400_000;
const start = new Date('2026-04-06T14:00:00Z');

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ engine: 'pglite' });
});
afterAll(() => t.close());

async function account(learned: boolean): Promise<{ api: Client; accountId: string; clock: string; customer: string }> {
  const keys = await t.signup();
  const api = t.client(keys.testKey);
  const s = await api.post('/v2/settings/auto_rescue', { learned });
  expect(s.status).toBe(200);
  expect(s.body.learned).toBe(learned);
  const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body.id;
  const customer = (await api.post('/v2/customers', { timezone: 'America/New_York', test_clock: clock })).body.id;
  return { api, accountId: keys.accountId, clock, customer };
}

// Cards that always decline, each on its own card number (a card allows 20 retries in 30 days).
const ALWAYS_DECLINING = ['InsufficientFunds', '', 'DoNotHonor', 'TryAgainLater', 'ExceedsLimit', 'VelocityLimitExceeded'].map((c) => `pm_card_chargeDeclined${c}`);

const payment = (customer: string, i = 0, pm = ALWAYS_DECLINING[0]) => ({
  amount: 4999, currency: 'USD', customer, payment_method: pm, off_session: true,
  auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 }, metadata: { subscription_id: `sub_${i}` },
});

describe('learned automatic schedule', () => {
  it('is off by default: the rule-based schedule shows no prediction fields', async () => {
    const a = await account(false);
    const p = (await a.api.post('/v2/payments', payment(a.customer))).body;
    expect(p.rescue_schedule.scheduled_retries.length).toBeGreaterThan(0);
    for (const r of p.rescue_schedule.scheduled_retries) expect(Object.keys(r).sort()).toEqual(['retry_number', 'scheduled_at']);
  });

  it('plans with a probability and a readable reason per retry, stored on the attempt', async () => {
    const a = await account(true);
    const res = await a.api.post('/v2/payments', payment(a.customer));
    expect(res.status).toBe(201);
    const retries = res.body.rescue_schedule.scheduled_retries;
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThanOrEqual(4);
    for (const r of retries) {
      expect(r.predicted_p).toBeGreaterThanOrEqual(0);
      expect(r.predicted_p).toBeLessThanOrEqual(1);
      expect(r.reason).toMatch(/insufficient funds; .*% predicted$/);
      const at = new Date(r.scheduled_at);
      expect(at.getTime()).toBeLessThanOrEqual(start.getTime() + 14 * DAY);
      const m = localMinuteOfDay(at, 'America/New_York');
      expect(m >= 60 && m < 240).toBe(false);
    }
    const row = await t.rescue.db.selectFrom('attempts').select(['predicted_p', 'planned_at'])
      .where('account_id', '=', a.accountId).where('payment_id', '=', res.body.id).where('number', '=', 2).executeTakeFirstOrThrow();
    expect(row.predicted_p).toBeCloseTo(retries[0].predicted_p, 3);
    expect(row.planned_at.toISOString()).toBe(new Date(retries[0].scheduled_at).toISOString());
  });

  it('trains on the account\'s attempts up to its clock, and a worse model never replaces a better one', async () => {
    const a = await account(true);
    for (let i = 0; i < 18; i++) expect((await a.api.post('/v2/payments', payment(a.customer, i, ALWAYS_DECLINING[i % 6]))).status).toBe(201);
    await advanceClock(a.api, a.clock, new Date(start.getTime() + 15 * DAY));
    const db = t.rescue.db;
    // Nothing had happened yet at the start: training follows the clock it is given.
    expect((await trainRetryTiming(db, { accountId: a.accountId, livemode: false, now: start, minExamples: 50 })).status).toBe('skipped');
    // An incumbent that already predicts this always-declining card perfectly.
    const perfect = { ...PRIOR_RETRY_MODEL, weights: { bias: -40 } };
    const incumbent = await recordModel(db, { accountId: a.accountId, livemode: false, kind: 'retry_timing', params: perfect, metrics: {}, trainedAt: start, activate: true });
    const out = await trainRetryTiming(db, { accountId: a.accountId, livemode: false, now: new Date(start.getTime() + 15 * DAY), minExamples: 50 });
    expect(out.status).toBe('kept_incumbent');
    if (out.status === 'skipped') throw new Error('unreachable');
    expect(out.examples).toBeGreaterThanOrEqual(50);
    expect(out.model.status).toBe('candidate');
    expect(out.model.version).toBe(2);
    expect(out.evaluation.brier).toBeGreaterThan(out.incumbent.brier);
    expect((await activeModel(db, a.accountId, false, 'retry_timing'))?.id).toBe(incumbent.id);
    const versions = await listModels(db, a.accountId, false, 'retry_timing');
    expect(versions.map((m) => [m.version, m.status])).toEqual([[2, 'candidate'], [1, 'active']]);
    expect(versions[0]!.metrics).toMatchObject({ model: { n: expect.any(Number), auc: expect.any(Number), brier: expect.any(Number), calibrationError: expect.any(Number) } });
  });
});
