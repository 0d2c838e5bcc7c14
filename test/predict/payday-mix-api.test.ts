import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localMinuteOfDay } from '../../src/domain/local-time.ts';
import { recordModel } from '../../src/store/models.ts';
import type { PaydayMix } from '../../src/predict/payday-mix.ts';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';

// An account whose customers are paid on the 25th or the last Friday (its model learned the mixture
// at retraining): an insufficient-funds rescue through the merchant's `http` gateway, for a customer
// with no history, is retried around those paydays, not on the US calendar's next Friday, and the
// reasons say so; after a failed retry the plan is made again with what it learned.

const DAY = 86_400_000;
const MIX: PaydayMix = {
  calendars: [{ calendar: 'dom-25', share: 0.6 }, { calendar: 'last-5', share: 0.35 }],
  other: { share: 0.05, rate: 0.1 },
  response: { before: 0.03, window: 0.65, after: 0.4, late: 0.2 },
  cards: 120,
};
const localDate = (iso: string) => new Date(iso).toLocaleDateString('en-CA', { timeZone: 'America/New_York' });

describe.each(ENGINES)('insufficient funds on the account\'s learned paydays (%s)', (engine) => {
  let t: TestRescue;
  let merchant: Merchant;

  beforeAll(async () => {
    merchant = await startMerchant(() => ({ charge: { status: 'failed', decline_code: 'insufficient_funds', message: 'Insufficient funds' } }));
    t = await startTestRescue({ engine });
  });
  afterAll(async () => {
    await t?.close();
    await merchant?.close();
  });

  // Wednesday 2026-06-10, 11:00 in New York; June 25 is a Thursday, the last Friday June 26.
  const start = new Date('2026-06-10T15:00:00Z');

  async function rescue(withMix: boolean): Promise<{ api: Client; clock: string; p: any }> {
    const keys = await t.signup();
    const api = t.client(keys.testKey);
    expect((await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret })).status).toBe(200);
    if (withMix) {
      // The mixture is its own kind of model: the account's retry-timing model stays the shipped prior.
      await recordModel(t.rescue.db, { accountId: keys.accountId, livemode: false, kind: 'payday_mix', params: MIX, metrics: {}, trainedAt: start, activate: true });
    }
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body.id;
    const customer = (await api.post('/v2/customers', { timezone: 'America/New_York', test_clock: clock })).body.id;
    const created = await api.post('/v2/payments', {
      amount: 4999, currency: 'USD', customer, payment_method: 'pm_merchant_nsf', off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 21 },
    });
    expect(created.status).toBe(201);
    expect(created.body.failure_code).toBe('insufficient_funds');
    return { api, clock, p: created.body };
  }

  // A plan may explore one retry (5% of plans, drawn by the payment's id); the rest are the planner's.
  const planned = (retries: any[]) => retries.filter((r) => !r.reason.startsWith('exploring another time'));

  it('retries around the 25th and the last Friday, says why, and replans after a failed retry', async () => {
    const { api, clock, p } = await rescue(true);
    const retries = p.rescue_schedule.scheduled_retries;
    expect(retries).toHaveLength(4);
    for (const r of retries) {
      const minute = localMinuteOfDay(new Date(r.scheduled_at), 'America/New_York');
      expect(minute >= 60 && minute < 240).toBe(false);
    }
    for (const r of planned(retries)) expect(r.reason).toMatch(/^insufficient funds; .*learned from 120 of this account's cards.*; (\d+ min|\d+ h|day \d+) after the decline, \d+% predicted$/);
    // Most of the budget goes to the days the 25th and the last Friday pay (June 25–27, Thursday–Saturday).
    const onPaydays = planned(retries).filter((r) => ['2026-06-25', '2026-06-26', '2026-06-27'].includes(localDate(r.scheduled_at)));
    expect(onPaydays.length).toBeGreaterThanOrEqual(2);
    for (const r of onPaydays) expect(r.reason).toMatch(/^insufficient funds; (on|[12] days? after) a likely payday \((the 25th|the last Friday)(, the last Friday)?: \d+% of this account's customers are paid then; learned from 120 of this account's cards\)/);
    // None on the US calendar's paydays the prior would pick (Friday June 12, Monday June 15).
    for (const r of planned(retries)) expect(['2026-06-12', '2026-06-13', '2026-06-15']).not.toContain(localDate(r.scheduled_at));

    // The first retry fails: the rest is planned again, a day or more after it, on what the account learned.
    const first = retries[0];
    await advanceClock(api, clock, new Date(new Date(first.scheduled_at).getTime() + 60_000));
    const after = (await api.get(`/v2/payments/${p.id}`)).body;
    expect(merchant.calls.filter((c) => c.body?.payment === p.id)).toHaveLength(2);
    const next = after.rescue_schedule.scheduled_retries;
    expect(next).toHaveLength(3);
    expect(new Date(next[0].scheduled_at).getTime() - new Date(first.scheduled_at).getTime()).toBeGreaterThanOrEqual(DAY - 60_000);
    for (const r of planned(next)) expect(r.reason).toMatch(/learned from 120 of this account's cards/);
  });

  it('without a learned mixture, the same customer is retried on the usual calendars\' next likely payday', async () => {
    const { p } = await rescue(false);
    const first = p.rescue_schedule.scheduled_retries[0];
    // Friday June 12, the next payday of most US customers (weekly and biweekly on Fridays, BLS).
    expect(localDate(first.scheduled_at)).toBe('2026-06-12');
    expect(first.reason).toMatch(/^insufficient funds; on a likely payday \(Fridays, every other Friday: 38% of customers are paid then; by US pay frequencies; this account's own not learned yet\); 37 h after the decline/);
  });

  it('a card is timed on the usual paydays of its country: the 25th in Japan, the 25th or the last Friday in Germany, month end in Brazil, Fridays in the US and Canada', async () => {
    const keys = await t.signup();
    const api = t.client(keys.testKey);
    // Wednesday 2026-06-17, 20:00 in Tokyo: June 25 is a Thursday, the last Friday June 26, the last business day June 30.
    const ask = async (cardCountry: string, timezone = 'Asia/Tokyo') => {
      const res = await api.post('/api/predict/retry-time', { declineCode: 'insufficient_funds', amount: 4999, currency: 'USD', failedAt: '2026-06-17T11:00:00Z', timezone, cardCountry, retryWindowDays: 14 });
      expect(res.status).toBe(200);
      return res.body.prediction;
    };
    const dateIn = (iso: string, timeZone: string) => new Date(iso).toLocaleDateString('en-CA', { timeZone });
    const jp = await ask('JP');
    expect(dateIn(jp.recommendedTime, 'Asia/Tokyo')).toBe('2026-06-25');
    expect(jp.reasoning).toMatch(/on a likely payday \(the 25th[^)]*; by the usual paydays in Japan and Korea; this account's own not learned yet\)/);
    const de = await ask('DE', 'Europe/Berlin');
    expect(['2026-06-25', '2026-06-26']).toContain(dateIn(de.recommendedTime, 'Europe/Berlin'));
    expect(de.reasoning).toMatch(/on a likely payday \((the 25th|the last Friday)[^)]*; by the usual paydays outside the US; this account's own not learned yet\)/);
    // Brazil pays by the 5th business day, some an advance on the 15th: both passed, the month's end
    // is the next likely payday. A 4% try before it would be worth its cost with retries to spare, but
    // insufficient funds waits for a payday (seed 003).
    const br = await ask('BR', 'America/Sao_Paulo');
    expect(dateIn(br.recommendedTime, 'America/Sao_Paulo')).toBe('2026-06-30');
    expect(br.reasoning).toMatch(/^insufficient funds; on a likely payday \(the last business day: \d+% of customers are paid then; by the usual paydays in Brazil; this account's own not learned yet\)/);
    // Nor is a time before it offered instead: the alternatives are on the payday or the day after.
    expect(br.alternatives.length).toBeGreaterThan(0);
    for (const a of br.alternatives) expect(['2026-06-30', '2026-07-01']).toContain(dateIn(a.time, 'America/Sao_Paulo'));
    const us = await ask('US');
    expect(dateIn(us.recommendedTime, 'Asia/Tokyo')).toBe('2026-06-19');
    expect(us.reasoning).toMatch(/by US pay frequencies/);
    const ca = await ask('CA', 'America/Toronto');
    expect(dateIn(ca.recommendedTime, 'America/Toronto')).toBe('2026-06-19');
    expect(ca.reasoning).toMatch(/on a likely payday \(Fridays, every other Friday: \d+% of customers are paid then; by Canadian pay frequencies/);
  });
});
