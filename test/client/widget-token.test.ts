import { Rescue, widgetToken } from '@rescue/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widgetToken as serverWidgetToken } from '../../src/domain/widget-token.ts';
import { rawRequest } from '../support/api-assertions.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';

// @rescue/client's widgetToken as a merchant's server uses it: the account's secret made through the
// API, a token made by the client (Web Crypto) opening that customer's widget on the real server, and
// the very token Rescue's own src/domain/widget-token.ts makes for the same inputs.

let t: TestRescue;
let rescue: Rescue;
let secret: string;

const inMinutes = (n: number) => new Date(Date.now() + n * 60_000);
const insights = (token: string) => rawRequest(t.url, 'GET', `/api/widget/insights?token=${encodeURIComponent(token)}`, { headers: { accept: 'application/json' } });

beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  const { testKey } = await t.signup();
  rescue = new Rescue({ apiKey: testKey, baseUrl: t.url });
  const made = await rawRequest(t.url, 'POST', '/v2/settings/widget/rotate_secret', { headers: { authorization: `Bearer ${testKey}` } });
  expect(made.status).toBe(200);
  secret = made.body.secret;
}, 60_000);
afterAll(() => t?.close());

describe('widgetToken (@rescue/client)', () => {
  it("opens the customer's widget on the real server: their open payments, nobody else's", async () => {
    const marie = await rescue.customers.create({ email: 'marie@example.fr', timezone: 'Europe/Paris' });
    const other = await rescue.customers.create({ email: 'paul@example.com', timezone: 'UTC' });
    const open = await rescue.payments.create({ amount: 3300, currency: 'EUR', customer: marie.id, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    await rescue.payments.create({ amount: 900, currency: 'EUR', customer: marie.id, payment_method: 'pm_card_visa', off_session: true, auto_rescue: { enabled: true } });
    const othersOpen = await rescue.payments.create({ amount: 1500, currency: 'USD', customer: other.id, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    expect(open.status).toBe('requires_rescue');

    const token = await widgetToken({ secret, customer: marie.id, expiresAt: inMinutes(10) });
    const res = await insights(token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'widget_insights', livemode: false, customer: marie.id });
    expect(res.body.data.map((p: { id: string }) => p.id)).toEqual([open.id]);
    expect(res.body.data[0]).toMatchObject({ amount: 3300, currency: 'eur', status: 'requires_rescue', can_retry_now: true });

    const theirs = await insights(await widgetToken({ secret, customer: other.id, expiresAt: inMinutes(10) }));
    expect(theirs.status).toBe(200);
    expect(theirs.body.data.map((p: { id: string }) => p.id)).toEqual([othersOpen.id]);
  });

  it('is the token src/domain/widget-token.ts makes for the same inputs', async () => {
    // Whole seconds and a fraction (exp is floored), an id with characters base64url and JSON must
    // carry alike on both sides, and the secret's key id in `k`.
    const cases = [
      { secret, customer: 'cus_abc123', expiresAt: new Date('2026-06-04T09:00:00Z') },
      { secret, customer: 'user-42:eu.ä/ü?', expiresAt: new Date('2026-06-04T09:00:00.999Z') },
      { secret: `wsec_${'A1b2C3d4E5f6G7h8I9j0K1l2'}_${'x-_Y'.repeat(11)}`, customer: 'cus_"quoted"', expiresAt: new Date(1_780_000_000_123) },
    ];
    for (const c of cases) {
      const made = await widgetToken(c);
      expect(made).toBe(serverWidgetToken(c));
      const [tag, body] = made.split('.');
      expect(tag).toBe('wt1');
      expect(JSON.parse(Buffer.from(body!, 'base64url').toString('utf8'))).toEqual({ k: c.secret.split('_')[1], c: c.customer, exp: Math.floor(c.expiresAt.getTime() / 1000) });
    }
  });

  it('signed with another secret, or expired, the widget refuses it', async () => {
    const customer = (await rescue.customers.create({ timezone: 'UTC' })).id;
    const stranger = `wsec_${'Z'.repeat(24)}_${'q'.repeat(43)}`;
    expect((await insights(await widgetToken({ secret: stranger, customer, expiresAt: inMinutes(10) }))).status).toBe(403);
    expect((await insights(await widgetToken({ secret, customer, expiresAt: inMinutes(-1) }))).status).toBe(403);
    expect((await insights(await widgetToken({ secret, customer, expiresAt: inMinutes(10) }))).status).toBe(200);
  });

  it('rejects what is not a widget secret, a missing customer and an invalid date, saying which', async () => {
    const expiresAt = inMinutes(10);
    await expect(widgetToken({ secret: 'sk_test_123', customer: 'cus_1', expiresAt })).rejects.toThrow(/not a widget secret \(wsec_…\)/);
    await expect(widgetToken({ secret: 'whsec_abc', customer: 'cus_1', expiresAt })).rejects.toBeInstanceOf(TypeError);
    await expect(widgetToken({ secret, customer: '', expiresAt })).rejects.toThrow(/customer is required/);
    await expect(widgetToken({ secret, customer: 'cus_1', expiresAt: new Date('not a date') })).rejects.toThrow(/expiresAt must be a valid Date/);
  });
});
