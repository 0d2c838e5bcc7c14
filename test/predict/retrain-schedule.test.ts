import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainDueRealtime, watchRealtimeAccounts } from '../../src/predict/retrain-schedule.ts';
import { listModels } from '../../src/store/models.ts';
import { advanceClock, startTestRescue, type TestRescue } from '../support/harness.ts';

// Scheduled retraining follows the account's clock: a test clock advanced over two months retrains
// the account's retry model as it would in real time — once enough new retries have finished, at
// most once per period of clock time, on the attempts finished by then — and a model that is no
// better than the incumbent is stored as a candidate, never activated.

const DAY = 86_400_000;
const PERIOD_DAYS = 7;
const MIN_NEW = 40;
const MIN_TOTAL = 200; // MIN_TRAINING_RETRIES
const start = new Date('2026-03-02T15:00:00Z');
const CUSTOMERS = 36;
const WEEKS = 9;

let t: TestRescue;
beforeAll(async () => {
  t = await startTestRescue({ engine: 'pglite', env: { RESCUE_RETRAIN_PERIOD_DAYS: String(PERIOD_DAYS), RESCUE_RETRAIN_MIN_NEW_RETRIES: String(MIN_NEW) } });
});
afterAll(() => t.close());

describe('scheduled retraining on a test clock', () => {
  it('retrains at the right clock times, only on attempts up to then, and keeps a worse model as a candidate', async () => {
    const keys = await t.signup();
    const api = t.client(keys.testKey);
    // The rule-based schedule spreads retries over every day, so the clock has work (a batch
    // boundary, where training is judged) at least daily; the learned one bunches them on paydays.
    // What is tested is when retraining happens, whichever policy planned the retries.
    expect((await api.post('/v2/settings/auto_rescue', { learned: false })).status).toBe(200);
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body.id;
    const customers: string[] = [];
    for (let i = 0; i < CUSTOMERS; i++) customers.push((await api.post('/v2/customers', { timezone: 'America/Chicago', test_clock: clock })).body.id);
    // Each simulated customer renews every two weeks (half of them on even weeks); every renewal's
    // first charge declines with the customer's own decline, and the rescue retries it.
    for (let week = 0; week < WEEKS; week++) {
      const now = new Date(start.getTime() + week * 7 * DAY);
      if (week > 0) await advanceClock(api, clock, now);
      for (let i = week % 2; i < CUSTOMERS; i += 2) {
        const res = await api.post('/v2/payments', {
          amount: 2000 + 100 * (i % 7), currency: 'USD', customer: customers[i], payment_method: `pm_sim_retrain-${i}_declined`, off_session: true,
          auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 }, metadata: { subscription_id: `sub_${i}` },
        });
        expect(res.status).toBe(201);
      }
    }
    const end = new Date(start.getTime() + (WEEKS + 2) * 7 * DAY);
    await advanceClock(api, clock, end);

    const db = t.rescue.db;
    // Finished retries on this clock (the training examples: a retry after a failed attempt of a rescue).
    const retries = (await sql<{ at: Date }>`select a.attempted_at as at from attempts a
      join attempts prev on prev.payment_id = a.payment_id and prev.number = a.number - 1 and prev.status = 'failed'
      join rescues r on r.account_id = a.account_id and r.payment_id = a.payment_id
      where a.account_id = ${keys.accountId} and a.test_clock = ${clock} and a.number > 1 and a.status in ('succeeded', 'failed')
      order by a.attempted_at`.execute(db)).rows.map((r) => r.at.getTime());
    expect(retries.length).toBeGreaterThan(MIN_TOTAL + 3 * MIN_NEW);
    const upTo = (ms: number) => retries.filter((r) => r <= ms).length;
    const before = (ms: number) => retries.filter((r) => r < ms).length;
    /** When the n-th retry (1-based) finished. */
    const nth = (n: number) => retries[n - 1]!;

    const models = (await listModels(db, keys.accountId, false, 'retry_timing')).reverse();
    const times = models.map((m) => m.trained_at.getTime());
    expect(models.length).toBeGreaterThanOrEqual(3);
    for (const [i, m] of models.entries()) {
      const at = times[i]!;
      // Trained at the clock's time, not the wall clock's.
      expect(at).toBeGreaterThan(start.getTime());
      expect(at).toBeLessThanOrEqual(end.getTime());
      // On exactly the retries finished on this clock by then: all those before that instant, and
      // those due at it only if they had run (a batch boundary trains before its batch runs).
      const examples = (m.metrics as { examples: number }).examples;
      expect(examples).toBeGreaterThanOrEqual(before(at));
      expect(examples).toBeLessThanOrEqual(upTo(at));
      if (i === 0) {
        // As soon as enough retries existed (the schedule looks again one clock day after a look that found too few).
        expect(upTo(at)).toBeGreaterThanOrEqual(MIN_TOTAL);
        expect(at - nth(MIN_TOTAL)).toBeLessThanOrEqual(2 * DAY);
      } else {
        const prev = times[i - 1]!;
        // At most once per period, with enough new retries, and not later than needed.
        expect(at - prev).toBeGreaterThanOrEqual(PERIOD_DAYS * DAY);
        expect(upTo(at) - upTo(prev)).toBeGreaterThanOrEqual(MIN_NEW);
        const dueAt = Math.max(prev + PERIOD_DAYS * DAY, nth(upTo(prev) + MIN_NEW));
        expect(at - dueAt).toBeLessThanOrEqual(2 * DAY);
      }
    }
    // No period-long stretch with enough new retries went without a training.
    const last = times.at(-1)!;
    expect(end.getTime() - last < (PERIOD_DAYS + 2) * DAY || upTo(end.getTime()) - upTo(last) < MIN_NEW).toBe(true);

    // A worse model never replaces a better one: a version is active or retired only if its held-out
    // Brier score was no worse than its incumbent's, otherwise it stays a candidate.
    type Metrics = { model: { brier: number }; incumbent: { brier: number } };
    for (const m of models) {
      const { model, incumbent } = m.metrics as Metrics;
      expect(m.status === 'candidate').toBe(model.brier > incumbent.brier);
    }
    expect(models.filter((m) => m.status === 'active').length).toBeLessThanOrEqual(1);
    expect(models.some((m) => m.status === 'candidate')).toBe(true);
  }, 180_000); // ~25–45 s on a busy 2-core machine: generous, so load never decides it
});

// Scheduled retraining in real time: an account is watched once its real-time retries ran; a round
// looks only at rows whose check is due, claims one (so two workers never train the same account at
// once), and pushes the next look a day ahead when too few retries finished. (A year after the wall
// clock, so the running worker's own rounds never find these rows due.)
const policy = { periodMs: 7 * DAY, minNewRetries: 100 };
const now = new Date('2027-11-30T12:00:00Z');
const rowsOf = async (accountId: string) => (await sql<{ clock: string; livemode: boolean; last_trained_at: Date | null; check_after: Date }>`
  select clock, livemode, last_trained_at, check_after from model_retraining where account_id = ${accountId} order by livemode`.execute(t.rescue.db)).rows;

describe('scheduled retraining in real time', () => {
  it('watches an account once, looks only when due, and waits a day after a look that found too few retries', async () => {
    const db = t.rescue.db;
    const { accountId } = await t.signup();
    await watchRealtimeAccounts(db, [{ account_id: accountId, livemode: true }, { account_id: accountId, livemode: true }], now);
    await watchRealtimeAccounts(db, [{ account_id: accountId, livemode: true }], new Date(now.getTime() + DAY));
    expect(await rowsOf(accountId)).toEqual([{ clock: '', livemode: true, last_trained_at: null, check_after: now }]);

    // Not due a minute before its check.
    expect(await retrainDueRealtime(db, policy, new Date(now.getTime() - 60_000))).toBe(0);
    expect((await rowsOf(accountId))[0]!.check_after).toEqual(now);

    // Due: no retries finished, so nothing is trained and the next look is a day later.
    expect(await retrainDueRealtime(db, policy, now)).toBe(0);
    expect(await rowsOf(accountId)).toEqual([{ clock: '', livemode: true, last_trained_at: null, check_after: new Date(now.getTime() + DAY) }]);
    expect((await db.selectFrom('models').select('id').where('account_id', '=', accountId).execute()).length).toBe(0);

    // Turned off: not even looked at.
    await sql`update model_retraining set check_after = ${now} where account_id = ${accountId}`.execute(db);
    expect(await retrainDueRealtime(db, { ...policy, periodMs: 0 }, now)).toBe(0);
    expect((await rowsOf(accountId))[0]!.check_after).toEqual(now);
  });
});
