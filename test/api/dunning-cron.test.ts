import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, rawRequest } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// GET /api/cron/dunning for an installation without a worker (an external scheduler runs the due
// sends): the operator's secret or a 401, off without one; each due email sent once through a real
// SMTP server, whatever calls overlap; the answer lists what it sent. And the emails themselves in
// each customer's language — English, German, French, Spanish, the account's default for a customer
// without a locale — each received with both its text and HTML parts.

const SECRET = 'cron-secret-0123456789abcdef';

describe.each(ENGINES)('the dunning cron endpoint (%s)', (engine) => {
  let smtp: EmailReceiver;
  let t: TestRescue;
  let api: Client;
  const cron = (auth?: string) => rawRequest(t.url, 'GET', '/api/cron/dunning', { headers: auth ? { authorization: auth } : {} });

  beforeAll(async () => {
    smtp = await startEmailReceiver();
    // The API alone: nothing sends emails but the cron endpoint.
    t = await startTestRescue({ engine, worker: false, env: { RESCUE_SMTP_URL: smtp.url, RESCUE_CRON_SECRET: SECRET } });
    api = t.client((await t.signup()).testKey);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const failFor = async (email: string, locale: string | null, timezone: string, amount: number, currency: string) => {
    const c = await api.post('/v2/customers', { email, name: null, timezone, ...(locale ? { locale } : {}) });
    expect(c.status).toBe(201);
    const p = await api.post('/v2/payments', { amount, currency, customer: c.body.id, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
    expect(p.body.status).toBe('requires_rescue');
    return p.body.id as string;
  };

  it('refuses without the secret; sends each due email once, in its language, with text and HTML', async () => {
    expect((await api.post('/v2/settings/dunning', { default_locale: 'es-MX' })).status).toBe(200);
    const payments = {
      en: await failFor('en@example.com', 'en-US', 'America/New_York', 1999, 'USD'),
      de: await failFor('de@example.com', 'de-AT', 'Europe/Vienna', 2999, 'EUR'),
      fr: await failFor('fr@example.com', 'fr-CA', 'America/Montreal', 3999, 'CAD'),
      es: await failFor('es@example.com', 'es-ES', 'Europe/Madrid', 4999, 'EUR'),
      // No locale: the account's default (es-MX).
      fallback: await failFor('none@example.com', null, 'America/Mexico_City', 5999, 'MXN'),
      // A language we have no catalogue for: English words, Japanese numbers.
      ja: await failFor('ja@example.com', 'ja-JP', 'Asia/Tokyo', 6999, 'JPY'),
    };
    expect((await api.get('/v2/emails?status=queued')).body.data).toHaveLength(6);

    expectError(await cron(), 401, { code: 'cron_secret_invalid', type: 'authentication_error' });
    expectError(await cron('Bearer wrong-secret-0123456789'), 401, { code: 'cron_secret_invalid' });
    expectError(await cron(SECRET), 401, { code: 'cron_secret_invalid' });
    expect(smtp.received).toHaveLength(0);

    // Two schedulers firing at once: each email goes to exactly one of them.
    const [a, b] = await Promise.all([cron(`Bearer ${SECRET}`), cron(`Bearer ${SECRET}`)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.object).toBe('dunning_cron_run');
    const sent = [...a.body.sent, ...b.body.sent];
    expect(a.body.count + b.body.count).toBe(6);
    expect(new Set(sent.map((s: any) => s.id)).size).toBe(6);
    expect(sent.every((s: any) => s.status === 'sent' && s.transport === 'smtp' && s.kind === 'payment_failed')).toBe(true);
    expect(sent.map((s: any) => s.payment).sort()).toEqual(Object.values(payments).sort());
    // Nothing left: a third call sends nothing.
    expect((await cron(`Bearer ${SECRET}`)).body).toEqual({ object: 'dunning_cron_run', count: 0, sent: [] });
    expect(smtp.received).toHaveLength(6);

    const mail = (to: string) => {
      const all = smtp.received.filter((m) => m.to.includes(to));
      expect(all).toHaveLength(1);
      const m = all[0]!;
      // Both parts, saying the same.
      expect(m.text.length).toBeGreaterThan(100);
      expect(m.html).toMatch(/^<!doctype html>/);
      return m;
    };
    const nbsp = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
    const en = mail('en@example.com');
    expect(en.subject).toBe("Your payment to Acme didn't go through");
    expect(en.text).toContain('We couldn\'t collect your payment of $19.99 to Acme.');
    expect(en.html).toContain('lang="en-US"');
    const de = mail('de@example.com');
    expect(de.subject).toBe('Ihre Zahlung an Acme ist fehlgeschlagen');
    expect(nbsp(de.text)).toContain('Wir konnten Ihre Zahlung von € 29,99 an Acme nicht einziehen.');
    expect(de.text).toContain('Zahlungsmethode aktualisieren:');
    expect(nbsp(de.html)).toContain('€ 29,99');
    const fr = mail('fr@example.com');
    expect(fr.subject).toBe('Votre paiement à Acme n’a pas abouti');
    expect(nbsp(fr.text)).toContain('Nous n’avons pas pu encaisser votre paiement de 39,99 $ à Acme.');
    expect(fr.html).toContain('Mettre à jour votre moyen de paiement');
    const es = mail('es@example.com');
    expect(es.subject).toBe('Tu pago a Acme no se ha podido completar');
    expect(nbsp(es.text)).toContain('No hemos podido cobrar tu pago de 49,99 € a Acme.');
    const fallback = mail('none@example.com');
    expect(fallback.subject).toBe('Tu pago a Acme no se ha podido completar');
    expect(nbsp(fallback.text)).toContain('$59.99');
    expect(fallback.html).toContain('lang="es-MX"');
    const ja = mail('ja@example.com');
    expect(ja.subject).toBe("Your payment to Acme didn't go through");
    expect(ja.text).toContain('￥6,999');
    // Dates in the customer's zone, in their language.
    expect(de.text).toMatch(/Dieser Link ist gültig bis \d{1,2}\. \S+ \d{4} um \d{2}:\d{2} \(Europe\/Vienna\)\./);
    expect(nbsp(fr.text)).toMatch(/Ce lien est valable jusqu’au \d{1,2} \S+ \d{4} à \d{1,2} h \d{2} \(America\/Montreal\)\./);
  }, 90_000);
});

describe('the dunning cron endpoint without RESCUE_CRON_SECRET', () => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ worker: false });
  }, 60_000);
  afterAll(() => t?.close());

  it('is off, and says how to turn it on', async () => {
    const res = await rawRequest(t.url, 'GET', '/api/cron/dunning', { headers: { authorization: 'Bearer anything-at-all-0123456789' } });
    expectError(res, 403, { code: 'cron_disabled' });
    expect(res.body.error.message).toContain('RESCUE_CRON_SECRET');
  });
});

describe('the dunning cron endpoint beside a running worker', () => {
  let smtp: EmailReceiver;
  let t: TestRescue;
  let api: Client;
  beforeAll(async () => {
    smtp = await startEmailReceiver();
    t = await startTestRescue({ env: { RESCUE_SMTP_URL: smtp.url, RESCUE_CRON_SECRET: SECRET } });
    api = t.client((await t.signup()).testKey);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('never sends an email twice: the worker and overlapping cron calls share the claims', async () => {
    const customer = (await api.post('/v2/customers', { email: 'both@example.com', timezone: 'UTC' })).body.id;
    const calls: Promise<Awaited<ReturnType<typeof rawRequest>>>[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const p = await api.post('/v2/payments', { amount: 1000 + i, currency: 'USD', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } });
      ids.push(p.body.id);
      // Cron calls fired while the worker is sending the same emails.
      calls.push(rawRequest(t.url, 'GET', '/api/cron/dunning', { headers: { authorization: `Bearer ${SECRET}` } }));
    }
    const answers = await Promise.all(calls);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const emails = await eventually(async () => {
      const list = (await api.get('/v2/emails?limit=100')).body.data;
      return list.length === 12 && list.every((e: any) => e.status === 'sent') ? list : undefined;
    });
    expect(emails.map((e: any) => e.attempts)).toEqual(Array(12).fill(1));
    await eventually(async () => (smtp.received.length >= 12 ? true : undefined));
    // Each payment's email arrived exactly once.
    const perPayment = ids.map((id) => smtp.received.filter((m) => m.headers.get('x-rescue-payment') === id).length);
    expect(perPayment).toEqual(Array(12).fill(1));
    // What the cron calls say they sent never overlaps.
    const viaCron = answers.flatMap((a) => a.body.sent.map((s: any) => s.id));
    expect(new Set(viaCron).size).toBe(viaCron.length);
  }, 90_000);
});
