import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type Engine } from '../support/databases.ts';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type ChargeCall, type Decision, type Merchant } from '../support/merchant.ts';

// Issue 16: on a fresh account (no own data: the learned `automatic` schedule runs on its prior), the
// first retry of each decline follows seed 003's strategy table; every planned retry stays in the
// window, out of 01:00–04:00 local, with a reason that is true of the instant it names; many retries
// are spread, a long window is not spent waiting for its end; custom days move out of quiet hours;
// and a planned retry runs at its planned instant. Everything goes through the API: the merchant's
// own `http` gateway (a real HTTP server) declines the first charge, the customer is in New York on a
// test clock. Local times below are computed with Intl, independently of src/domain/local-time.ts.
// Every case runs on PGlite; on Postgres, the cases that read the most back from the store (a payday
// row, the custom schedule, a retry run by the test clock) run too, so the file stays fast.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NY = 'America/New_York';

/** Tuesday 24 March 2026, 11:00 in New York (EDT, UTC−4 since 8 March). */
const TUESDAY_11 = new Date('2026-03-24T15:00:00Z');
/** The customer's next local midnight after it: Wednesday 25 March 00:00 EDT. */
const WEDNESDAY_MIDNIGHT = new Date('2026-03-25T04:00:00Z');
/** The next likely payday on the generic calendar (1st, 15th, Fridays) after Tuesday 24 March. */
const NEXT_PAYDAY = '2026-03-27';
/** Tuesday 24 March 2026, 02:47 in New York: inside the quiet hours. */
const TUESDAY_0247 = new Date('2026-03-24T06:47:00Z');

const DEFAULT_RESCUE = { enabled: true, max_retries: 4, retry_window_days: 14 };

const localFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: NY, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', weekday: 'short',
});

/** Wall-clock date and time of an instant in New York. */
function local(at: Date | number): { date: string; minute: number; weekday: string; text: string } {
  const parts = Object.fromEntries(localFormat.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { date, minute, weekday: parts.weekday!, text: `${parts.weekday} ${date} ${parts.hour}:${parts.minute} NY` };
}

interface Retry {
  retry_number: number;
  scheduled_at: string;
  predicted_p?: number;
  reason?: string | null;
}

const ms = (iso: string) => Date.parse(iso);

/** The plan, one line a retry, for assertion messages: what the planner engineer needs to see. */
function describePlan(retries: readonly Retry[], declinedAt: number): string {
  return retries
    .map((r) => {
      const t = ms(r.scheduled_at);
      const h = (t - declinedAt) / HOUR;
      const after = h < 48 ? `+${h.toFixed(2)} h` : `+${(h / 24).toFixed(2)} d`;
      return `#${r.retry_number} ${r.scheduled_at} (${local(t).text}, ${after}) p=${r.predicted_p ?? '-'} reason=${JSON.stringify(r.reason ?? null)}`;
    })
    .join('\n');
}

let merchant: Merchant;
/** Per payment-method token, what the merchant does with a charge; unknown tokens succeed. */
const scripts = new Map<string, (call: ChargeCall) => Decision>();
let tokens = 0;

beforeAll(async () => {
  merchant = await startMerchant((call) => {
    const script = scripts.get(call.body?.payment_method);
    return script ? script(call) : { charge: { status: 'succeeded', transaction_id: `txn_${call.body?.attempt_id}` } };
  });
});
afterAll(async () => {
  await merchant?.close();
});

interface Account {
  api: Client;
  clock: string;
  customer: string;
}

/** A brand-new account (no payments, no model of its own) charging through the merchant's http gateway, and a New York customer on a test clock at `start`. */
async function freshAccount(t: TestRescue, start: Date): Promise<Account> {
  const api = t.client((await t.signup()).testKey);
  const gw = await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret });
  expect(gw.status, JSON.stringify(gw.body)).toBe(200);
  const clock = await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000, name: 'issue-16' });
  expect(clock.status, JSON.stringify(clock.body)).toBe(201);
  const customer = await api.post('/v2/customers', { email: `c${tokens}@example.com`, name: 'Ada', timezone: NY, test_clock: clock.body.id });
  expect(customer.status, JSON.stringify(customer.body)).toBe(201);
  return { api, clock: clock.body.id, customer: customer.body.id };
}

/** A token the merchant declines with `code` on the first charge; retries get `retries` (default: the same decline). */
function merchantToken(code: string, retries?: (call: ChargeCall) => Decision): string {
  const token = `pm_merchant_${code}_${++tokens}`;
  const decline: Decision = { charge: { status: 'failed', decline_code: code, message: `declined: ${code}` } };
  scripts.set(token, (call) => (call.body.retry_number === 0 || !retries ? decline : retries(call)));
  return token;
}

interface Declined {
  payment: any;
  declinedAt: number;
  windowEndsAt: number;
  retries: Retry[];
  plan: string;
}

/** Creates the payment; its first charge (at the clock's time) is declined with `code` and a rescue is planned. */
async function declinedPayment(a: Account, token: string, code: string, start: Date, autoRescue: Record<string, unknown> = DEFAULT_RESCUE): Promise<Declined> {
  const res = await a.api.post('/v2/payments', {
    amount: 4999, currency: 'USD', customer: a.customer, payment_method: token, off_session: true,
    auto_rescue: autoRescue, metadata: { subscription_id: `sub_${token}` },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const p = res.body;
  expect(p, JSON.stringify(p)).toMatchObject({ status: 'requires_rescue', failure_code: code, auto_rescue: { status: 'active', attempts_made: 1 } });
  expect(p.rescue_history).toHaveLength(1);
  const declinedAt = ms(p.rescue_history[0].attempted_at);
  expect(declinedAt).toBe(start.getTime());
  const retries: Retry[] = p.rescue_schedule.scheduled_retries;
  const plan = describePlan(retries, declinedAt);
  expect(retries.length, plan).toBeGreaterThan(0);
  expect(p.rescue_schedule.next_retry_at).toBe(retries[0]!.scheduled_at);
  const windowEndsAt = ms(p.auto_rescue.retry_window_ends_at);
  return { payment: p, declinedAt, windowEndsAt, retries, plan };
}

/**
 * What every planned retry keeps: after the decline, ascending, inside the window (the payment's
 * `retry_window_ends_at`, itself no later than `windowDays` after the decline), never in [01:00,
 * 04:00) New York time; with `withReason`, a reason that is true of the instant it names.
 */
function expectEveryRetryAllowed(d: Declined, windowDays: number, withReason: boolean) {
  expect(d.windowEndsAt, d.plan).toBeLessThanOrEqual(d.declinedAt + windowDays * DAY);
  let prev = d.declinedAt;
  for (const r of d.retries) {
    const at = ms(r.scheduled_at);
    const where = `retry #${r.retry_number} at ${r.scheduled_at} (${local(at).text}) in plan:\n${d.plan}`;
    expect(at, `${where}\nnot after the previous one`).toBeGreaterThan(prev);
    expect(at, `${where}\nafter the window`).toBeLessThanOrEqual(d.windowEndsAt);
    const m = local(at).minute;
    expect(m >= 60 && m < 240, `${where}\nin quiet hours (01:00–04:00 local)`).toBe(false);
    if (withReason) {
      expect(typeof r.reason === 'string' && r.reason.trim().length > 0, `${where}\nhas no reason`).toBe(true);
      expectReasonTrue(r.reason!, at, d.declinedAt, where);
    }
    prev = at;
  }
}

/** The checkable claims a reason makes about its instant: local midnight, hours or days after the decline. */
function expectReasonTrue(reason: string, at: number, declinedAt: number, where: string) {
  const m = local(at).minute;
  if (/just after [^;]*midnight/i.test(reason)) expect(m, `${where}\nsays "just after midnight"`).toBeLessThan(60);
  const hours = /(\d+) ?h(ours?)? after the decline/i.exec(reason);
  if (hours) expect(Math.abs((at - declinedAt) / HOUR - Number(hours[1])), `${where}\nsays ${hours[0]}`).toBeLessThanOrEqual(1);
  const days = /day (\d+) after the decline/i.exec(reason);
  if (days) expect(Math.abs((at - declinedAt) / DAY - Number(days[1])), `${where}\nsays ${days[0]}`).toBeLessThanOrEqual(1);
}

it('the setting: the test clock\'s start is a Tuesday 11:00 in New York, its next midnight and payday are the ones named', () => {
  expect(local(TUESDAY_11).text).toBe('Tue 2026-03-24 11:00 NY');
  expect(local(WEDNESDAY_MIDNIGHT).text).toBe('Wed 2026-03-25 00:00 NY');
  expect(local(TUESDAY_0247).text).toBe('Tue 2026-03-24 02:47 NY');
  expect(local(Date.parse(`${NEXT_PAYDAY}T16:00:00Z`)).weekday).toBe('Fri');
});

describe.each(ENGINES)('issue 16 (%s)', (engine: Engine) => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ engine });
  });
  afterAll(async () => {
    await t?.close();
  });
  /** PGlite runs every case; Postgres the payday row, the custom schedule and the retry run by the clock. */
  const everyCase = engine === 'pglite';

  describe('a fresh account\'s automatic schedule follows seed 003\'s strategy per decline (http gateway, New York, test clock)', () => {
    if (everyCase) {
      it.each(['network_timeout', 'gateway_error', 'issuer_unavailable'])('%s (technical / issuer outage): the first retry is 10 min to 1 h after the decline', async (code) => {
        const a = await freshAccount(t, TUESDAY_11);
        const d = await declinedPayment(a, merchantToken(code), code, TUESDAY_11);
        expectEveryRetryAllowed(d, 14, true);
        const first = ms(d.retries[0]!.scheduled_at) - d.declinedAt;
        expect(first, `first retry of ${code}:\n${d.plan}`).toBeGreaterThanOrEqual(10 * MINUTE);
        expect(first, `first retry of ${code}:\n${d.plan}`).toBeLessThanOrEqual(HOUR);
      });

      it('processing_error: the first retry is about 24 h after the decline (23–25 h)', async () => {
        const a = await freshAccount(t, TUESDAY_11);
        const d = await declinedPayment(a, merchantToken('processing_error'), 'processing_error', TUESDAY_11);
        expectEveryRetryAllowed(d, 14, true);
        const first = ms(d.retries[0]!.scheduled_at) - d.declinedAt;
        expect(first, d.plan).toBeGreaterThanOrEqual(23 * HOUR);
        expect(first, d.plan).toBeLessThanOrEqual(25 * HOUR);
      });

      it('try_again_later: the first retry is 24–48 h after the decline', async () => {
        const a = await freshAccount(t, TUESDAY_11);
        const d = await declinedPayment(a, merchantToken('try_again_later'), 'try_again_later', TUESDAY_11);
        expectEveryRetryAllowed(d, 14, true);
        const first = ms(d.retries[0]!.scheduled_at) - d.declinedAt;
        expect(first, d.plan).toBeGreaterThanOrEqual(24 * HOUR);
        expect(first, d.plan).toBeLessThanOrEqual(48 * HOUR);
      });

      it('exceeds_limit: the first retry is just after the customer\'s next local midnight (Wednesday 00:00–01:00 New York), and says so', async () => {
        const a = await freshAccount(t, TUESDAY_11);
        const d = await declinedPayment(a, merchantToken('exceeds_limit'), 'exceeds_limit', TUESDAY_11);
        expectEveryRetryAllowed(d, 14, true);
        const first = d.retries[0]!;
        expect(ms(first.scheduled_at), d.plan).toBeGreaterThanOrEqual(WEDNESDAY_MIDNIGHT.getTime());
        expect(ms(first.scheduled_at), d.plan).toBeLessThanOrEqual(WEDNESDAY_MIDNIGHT.getTime() + HOUR);
        expect(first.reason, d.plan).toMatch(/midnight|reset/i);
      });
    }

    it('insufficient_funds: the first retry is on the next likely payday (Friday 27 March), just after local midnight, and says payday', async () => {
      const a = await freshAccount(t, TUESDAY_11);
      const d = await declinedPayment(a, merchantToken('insufficient_funds'), 'insufficient_funds', TUESDAY_11);
      expectEveryRetryAllowed(d, 14, true);
      const first = d.retries[0]!;
      const at = ms(first.scheduled_at);
      expect(local(at).date, d.plan).toBe(NEXT_PAYDAY);
      expect(local(at).minute, d.plan).toBeLessThan(60);
      expect(at - d.declinedAt, d.plan).toBeGreaterThanOrEqual(DAY);
      expect(at - d.declinedAt, d.plan).toBeLessThanOrEqual(3 * DAY);
      expect(first.reason, d.plan).toMatch(/payday/i);
    });
  });

  if (everyCase) {
    describe('spread', () => {
      it.each(['insufficient_funds', 'try_again_later'])('%s with max_retries 8 in 14 days: retries at least 20 h apart, spanning at least 5 days', async (code) => {
        const a = await freshAccount(t, TUESDAY_11);
        const d = await declinedPayment(a, merchantToken(code), code, TUESDAY_11, { enabled: true, max_retries: 8, retry_window_days: 14 });
        expectEveryRetryAllowed(d, 14, true);
        expect(d.retries.length, d.plan).toBeLessThanOrEqual(8);
        expect(d.retries.length, `a plan of one retry is not spread:\n${d.plan}`).toBeGreaterThanOrEqual(2);
        const times = d.retries.map((r) => ms(r.scheduled_at));
        for (let i = 1; i < times.length; i++) {
          expect(times[i]! - times[i - 1]!, `gap before retry #${d.retries[i]!.retry_number}:\n${d.plan}`).toBeGreaterThanOrEqual(20 * HOUR);
        }
        expect(times.at(-1)! - times[0]!, `span from the first to the last retry:\n${d.plan}`).toBeGreaterThanOrEqual(5 * DAY);
      });

      it('insufficient_funds in a 30-day window: the first retry still comes within 3 days', async () => {
        const a = await freshAccount(t, TUESDAY_11);
        const d = await declinedPayment(a, merchantToken('insufficient_funds'), 'insufficient_funds', TUESDAY_11, { enabled: true, max_retries: 4, retry_window_days: 30 });
        expectEveryRetryAllowed(d, 30, true);
        expect(ms(d.retries[0]!.scheduled_at) - d.declinedAt, d.plan).toBeLessThanOrEqual(3 * DAY);
      });
    });
  }

  describe('quiet hours hold for custom schedules', () => {
    /** An insufficient-funds rescue on custom days, declined at 02:47 New York: its retries, allowed and in local time. */
    async function customFrom0247(days: number[], windowDays: number) {
      const a = await freshAccount(t, TUESDAY_0247);
      const code = 'insufficient_funds';
      const d = await declinedPayment(a, merchantToken(code), code, TUESDAY_0247, { enabled: true, retry_schedule: 'custom', custom_schedule_days: days, retry_window_days: windowDays });
      expectEveryRetryAllowed(d, windowDays, false);
      return { d, local: d.retries.map((r) => local(ms(r.scheduled_at)).text) };
    }

    it('custom days 1, 2, 3 counted from a 02:47 local failure land at 04:00 local on those days, not at 02:47', async () => {
      const { d, local: at } = await customFrom0247([1, 2, 3], 14);
      expect(at, d.plan).toEqual([
        'Wed 2026-03-25 04:00 NY',
        'Thu 2026-03-26 04:00 NY',
        'Fri 2026-03-27 04:00 NY',
      ]);
      expect(d.retries.map((r) => r.scheduled_at)).toEqual(['2026-03-25T08:00:00Z', '2026-03-26T08:00:00Z', '2026-03-27T08:00:00Z']);
    });

    it('a custom day equal to the window moves earlier, to 00:59 local, where 04:00 would be past the window', async () => {
      const { d, local: at } = await customFrom0247([1, 3, 7], 7);
      expect(at, d.plan).toEqual([
        'Wed 2026-03-25 04:00 NY',
        'Fri 2026-03-27 04:00 NY',
        'Tue 2026-03-31 00:59 NY',
      ]);
    });
  });

  describe('a planned retry runs at its planned instant', () => {
    it('processing_error: advancing the clock past the first planned retry charges the merchant once more, at that instant', async () => {
      const a = await freshAccount(t, TUESDAY_11);
      const token = merchantToken('processing_error', (call) => ({ charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } }));
      const d = await declinedPayment(a, token, 'processing_error', TUESDAY_11);
      const planned = ms(d.retries[0]!.scheduled_at);
      const calls = () => merchant.calls.filter((c) => c.body?.payment === d.payment.id);
      expect(calls()).toHaveLength(1);

      // Just before the planned instant nothing runs; just after it, the retry has run.
      await advanceClock(a.api, a.clock, new Date(planned - MINUTE));
      expect(calls(), d.plan).toHaveLength(1);
      await advanceClock(a.api, a.clock, new Date(planned + 30 * MINUTE));

      const [first, second, ...more] = calls();
      expect(more, d.plan).toHaveLength(0);
      expect(first!.body.retry_number).toBe(0);
      expect(second, `no second charge after advancing past ${d.retries[0]!.scheduled_at}:\n${d.plan}`).toBeDefined();
      expect(second!.signatureError).toBeNull();
      expect(second!.body.retry_number).toBe(1);
      expect(second!.headers['idempotency-key']).not.toBe(first!.headers['idempotency-key']);
      expect(ms(second!.body.attempted_at), d.plan).toBe(planned);

      const after = (await a.api.get(`/v2/payments/${d.payment.id}`)).body;
      expect(after).toMatchObject({ status: 'succeeded', auto_rescue: { status: 'recovered' } });
      expect(after.rescue_history.map((h: any) => [h.result, ms(h.attempted_at)])).toEqual([['failed', d.declinedAt], ['succeeded', planned]]);
    });
  });
});
