import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { widgetToken } from '../../src/domain/widget-token.ts';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// The widget over HTTP, as a merchant's server and a portal use it: the secret made and rotated
// through the API, settings validated at the edge, the JSON answer, and every token that must not
// work — missing (401), tampered, expired, too long-lived, from a rotated-away secret, for another
// account's customer (403) — answered alike, saying nothing about why.

describe.each(ENGINES)('the portal widget API (%s)', (engine) => {
  let t: TestRescue;
  let api: Client;
  let other: Client;
  let customer: string;
  let foreignCustomer: string;
  let secret: string;
  const inAnHour = () => new Date(Date.now() + 3_600_000);
  const insights = (token: string, accept = 'application/json') => rawRequest(t.url, 'GET', `/api/widget/insights?token=${encodeURIComponent(token)}`, { headers: { accept } });

  beforeAll(async () => {
    t = await startTestRescue({ engine });
    api = t.client((await t.signup()).testKey);
    other = t.client((await t.signup()).testKey);
    customer = (await api.post('/v2/customers', { email: 'marie@example.fr', timezone: 'Europe/Paris', locale: 'fr-FR' })).body.id;
    foreignCustomer = (await other.post('/v2/customers', { email: 'x@example.com', timezone: 'UTC' })).body.id;
  }, 60_000);
  afterAll(() => t?.close());

  it('settings: defaults, validation naming the field, a secret shown once and rotated', async () => {
    expect((await api.get('/v2/settings/widget')).body).toEqual({ object: 'widget_settings', livemode: false, allowed_origins: [], branding: { accent_color: null, logo_url: null }, secret_created_at: null });
    expectError(await api.post('/v2/settings/widget', { allowed_origins: ['https://portal.example.com/account'] }), 400, { code: 'parameter_invalid', param: 'allowed_origins[0]' });
    expectError(await api.post('/v2/settings/widget', { branding: { accent_color: 'purple' } }), 400, { param: 'branding[accent_color]' });
    expectError(await api.post('/v2/settings/widget', { branding: { logo_url: 'http://cdn.example.com/logo.png' } }), 400, { param: 'branding[logo_url]' });
    expectError(await api.post('/v2/settings/widget', { frame: true }), 400, { code: 'parameter_invalid' });
    const saved = await api.post('/v2/settings/widget', { allowed_origins: ['https://portal.example.com', 'http://127.0.0.1:3000'], branding: { accent_color: '#0a7a3d' } });
    expect(saved.body).toMatchObject({ allowed_origins: ['https://portal.example.com', 'http://127.0.0.1:3000'], branding: { accent_color: '#0a7a3d', logo_url: null } });

    const first = await api.post('/v2/settings/widget/rotate_secret');
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^wsec_[A-Za-z0-9]{24}_[A-Za-z0-9_-]{43}$/);
    const shown = await api.get('/v2/settings/widget');
    expect(JSON.stringify(shown.body)).not.toContain(first.body.secret);
    expect(shown.body.secret_created_at).toBe(first.body.created_at);
    // Rotation: the old secret's tokens stop working at once.
    const old = widgetToken({ secret: first.body.secret, customer, expiresAt: inAnHour() });
    expect((await insights(old)).status).toBe(200);
    secret = (await api.post('/v2/settings/widget/rotate_secret')).body.secret;
    expect(secret).not.toBe(first.body.secret);
    expectError(await insights(old), 403, { code: 'widget_token_invalid', type: 'authentication_error' });
  });

  it('JSON: the open payments with plain words, the retry and update link; frame-ancestors from the settings', async () => {
    const pay = await api.post('/v2/payments', { amount: 3300, currency: 'EUR', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    await api.post('/v2/payments', { amount: 900, currency: 'EUR', customer, payment_method: 'pm_card_visa', off_session: true, auto_rescue: { enabled: true } });
    const res = await insights(widgetToken({ secret, customer, expiresAt: inAnHour() }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors https://portal.example.com http://127.0.0.1:3000');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ object: 'widget_insights', customer, merchant: 'Acme' });
    // The paid one is not open.
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({ id: pay.body.id, amount: 3300, currency: 'eur', status: 'requires_rescue', can_retry_now: true, card_last4: '9995' });
    expect(res.body.data[0].amount_display.replace(/\s/g, ' ')).toBe('33,00 €');
    expect(res.body.data[0].reason).toContain('pas suffisamment approvisionné');
    expect(res.body.data[0].next_retry_at).toBe(pay.body.rescue_schedule.next_retry_at);
    expect(res.body.data[0].update_payment_url).toMatch(new RegExp(`^${t.url}/api/update-payment/${pay.body.id}\\?sig=`));
    // The link it gives opens the update page.
    expect((await fetch(res.body.data[0].update_payment_url)).status).toBe(200);

    // One click (JSON): the retry runs now; declined again on this card, the payment stays open.
    const retried = await rawRequest(t.url, 'POST', '/api/widget/insights/retry', { headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ token: widgetToken({ secret, customer, expiresAt: inAnHour() }), payment: pay.body.id }) });
    expect(retried.status).toBe(200);
    expect(retried.body.result).toMatchObject({ payment: pay.body.id, outcome: 'declined' });
    expect((await api.get(`/v2/payments/${pay.body.id}`)).body.auto_rescue.attempts_made).toBe(2);
  });

  it('refuses every bad token alike: 401 without one, 403 otherwise, in JSON and HTML', async () => {
    const good = widgetToken({ secret, customer, expiresAt: inAnHour() });
    const [tag, body, sig] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), c: foreignCustomer })).toString('base64url');
    expectError(await rawRequest(t.url, 'GET', '/api/widget/insights', { headers: { accept: 'application/json' } }), 401, { code: 'widget_token_missing' });
    const bad = [
      `${tag}.${body}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`,
      `${tag}.${forged}.${sig}`,
      widgetToken({ secret, customer, expiresAt: new Date(Date.now() - 1000) }),
      widgetToken({ secret, customer, expiresAt: new Date(Date.now() + 3 * 86_400_000) }),
      widgetToken({ secret, customer: foreignCustomer, expiresAt: inAnHour() }),
      widgetToken({ secret: `wsec_${'a'.repeat(24)}_${'b'.repeat(43)}`, customer, expiresAt: inAnHour() }),
      'not-a-token',
    ];
    const messages = new Set<string>();
    for (const token of bad) {
      const res = await insights(token);
      expectError(res, 403, { code: 'widget_token_invalid' });
      messages.add(res.body.error.message);
      const page = await insights(token, 'text/html');
      expect(page.status).toBe(403);
      expect(page.body).toContain('This content is unavailable.');
      expect(page.body).not.toContain('Acme');
    }
    expect([...messages]).toEqual(['This widget token is not valid.']);
    // A retry with a bad token charges nothing.
    expectError(await rawRequest(t.url, 'POST', '/api/widget/insights/retry', { headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ token: bad[0], payment: 'pay_x' }) }), 403);
    // Another customer's payment reads as no such payment.
    const theirs = await other.post('/v2/payments', { amount: 500, currency: 'USD', customer: foreignCustomer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    const cross = await rawRequest(t.url, 'POST', '/api/widget/insights/retry', { headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify({ token: good, payment: theirs.body.id }) });
    expectError(cross, 400, { code: 'resource_missing', param: 'payment' });
    expect((await other.get(`/v2/payments/${theirs.body.id}`)).body.auto_rescue.attempts_made).toBe(1);
  });
});
