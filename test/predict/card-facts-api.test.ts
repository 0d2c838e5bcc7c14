import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedProfile } from '../../src/gateways/sandbox/population.ts';
import { loadRetryExamples } from '../../src/predict/training-data.ts';
import { ENGINES } from '../support/databases.ts';
import { advanceClock, startTestRescue, type TestRescue } from '../support/harness.ts';

// Card facts through the real app: a payment's attempts store the card's funding and country
// (migration 0012), the training data reads them back with the customer's tenure on its test clock,
// and /api/predict/retry-time takes them as optional fields.

const DAY = 86_400_000;
const start = new Date('2026-05-04T14:00:00Z');

/** A simulated debit customer whose renewal declines softly (so it gets retries). */
function debitToken(): string {
  for (let i = 0; ; i++) {
    const p = simulatedProfile(`cardfacts${i}`);
    if (p.funding === 'debit' && (p.firstDecline.bucket === 'nsf' || p.firstDecline.bucket === 'generic')) return `pm_sim_cardfacts${i}_declined`;
  }
}

describe.each(ENGINES)('card facts on attempts (%s)', (engine) => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ engine });
  });
  afterAll(() => t.close());

  it('stores funding and country on every attempt, and the training data reads them with the tenure', async () => {
    const keys = await t.signup();
    const api = t.client(keys.testKey);
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body.id;
    const customer = (await api.post('/v2/customers', { timezone: 'America/Chicago', test_clock: clock })).body.id;
    await advanceClock(api, clock, new Date(start.getTime() + 40 * DAY));
    const res = await api.post('/v2/payments', {
      amount: 2999, currency: 'USD', customer, payment_method: debitToken(), off_session: true,
      auto_rescue: { enabled: true, max_retries: 4, retry_window_days: 14 },
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('requires_rescue');
    const until = new Date(start.getTime() + 56 * DAY);
    await advanceClock(api, clock, until);

    const rows = await t.rescue.db.selectFrom('attempts').select(['number', 'status', 'card_funding', 'card_country'])
      .where('account_id', '=', keys.accountId).where('payment_id', '=', res.body.id).orderBy('number').execute();
    expect(rows.length).toBeGreaterThan(1);
    for (const r of rows) expect([r.card_funding, r.card_country]).toEqual(['debit', 'US']);

    const examples = await loadRetryExamples(t.rescue.db, keys.accountId, false, until);
    const finished = rows.filter((r) => r.number > 1 && (r.status === 'succeeded' || r.status === 'failed'));
    expect(finished.length).toBeGreaterThan(0);
    expect(examples).toHaveLength(finished.length);
    for (const e of examples) {
      expect(e.input.funding).toBe('debit');
      expect(e.input.cardCountry).toBe('US');
      // Created at the clock's start: tenure counts on the clock, not real time.
      expect(e.input.customerCreatedAtMs).toBe(start.getTime());
      expect(e.input.cardWasUpdated).toBe(false);
    }
  });

  it('/api/predict/retry-time takes funding, country and a replaced card, and refuses a bad country', async () => {
    const api = t.client((await t.signup()).testKey);
    const base = { declineCode: 'expired_card', amount: 2500, currency: 'USD', failedAt: '2026-05-04T14:00:00Z', timezone: 'America/New_York' };
    const replaced = await api.post('/api/predict/retry-time', { ...base, cardWasUpdated: true, cardFunding: 'debit', cardCountry: 'us' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.prediction.probability).toBeGreaterThan(0.5);
    expect(replaced.body.prediction.recommendedTime).not.toBeNull();
    const notReplaced = await api.post('/api/predict/retry-time', base);
    expect(notReplaced.status).toBe(200);
    expect(notReplaced.body.prediction.probability).toBeLessThan(0.1);
    expect(Object.keys(replaced.body.prediction).sort()).toEqual(Object.keys(notReplaced.body.prediction).sort());

    const bad = await api.post('/api/predict/retry-time', { ...base, cardCountry: 'USA' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('cardCountry');
    const funding = await api.post('/api/predict/retry-time', { ...base, cardFunding: 'charge' });
    expect(funding.status).toBe(400);
    expect(funding.body.error.param).toBe('cardFunding');
  });
});
