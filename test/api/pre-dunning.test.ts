import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/api-assertions.ts';
import { ENGINES } from '../support/databases.ts';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { advanceClock, eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// Pre-dunning on a test clock: a card that expires before the customer's next expected payment is
// told about 14 days ahead, with the update link, received through a real SMTP server — and not at
// all for a card the customer has since replaced. The sandbox's test cards expire in December 2034.

const SECRET = 'cron-secret-0123456789abcdef';
const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe.each(ENGINES)('pre-dunning for expiring cards (%s)', (engine) => {
  let smtp: EmailReceiver;
  let t: TestRescue;
  let api: Client;
  let clock: string;
  const cron = () => rawRequest(t.url, 'GET', '/api/cron/dunning', { headers: { authorization: `Bearer ${SECRET}` } });
  const expiringEmails = async () => (await api.get('/v2/emails?kind=card_expiring')).body.data;

  beforeAll(async () => {
    smtp = await startEmailReceiver();
    t = await startTestRescue({ engine, env: { RESCUE_SMTP_URL: smtp.url, RESCUE_CRON_SECRET: SECRET } });
    api = t.client((await t.signup()).testKey);
    await api.post('/v2/settings/dunning', { update_payment_url: 'https://billing.acme.example/card' });
    clock = (await api.post('/v2/test_clocks', { frozen_time: at('2034-12-05T10:00:00Z') })).body.id;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('tells the customer ahead of the next payment, once, with the link; not for a card replaced since', async () => {
    const ada = (await api.post('/v2/customers', { email: 'ada@example.com', name: 'Ada', timezone: 'America/New_York', locale: 'en-US', test_clock: clock })).body.id;
    const marie = (await api.post('/v2/customers', { email: 'marie@example.fr', name: 'Marie', timezone: 'Europe/Paris', locale: 'fr-FR', test_clock: clock })).body.id;
    const pay = (customer: string, payment_method: string) =>
      api.post('/v2/payments', { amount: 1500, currency: 'USD', customer, payment_method, off_session: true, auto_rescue: { enabled: true }, metadata: { subscription_id: `sub_${customer}` } });
    // Paid on 5 December with a card valid through December: the next payment (about 5 January) would fail.
    const adaPaid = await pay(ada, 'pm_card_visa');
    expect(adaPaid.body.status).toBe('succeeded');
    expect((await pay(marie, 'pm_card_visa')).body.status).toBe('succeeded');
    expect((await cron()).status).toBe(200);
    // Checked, but not yet: 14 days before the card's expiry is 18 December.
    expect(await expiringEmails()).toEqual([]);

    // Marie pays again on the 10th with another card: the Visa is no longer hers to worry about.
    await advanceClock(api, clock, new Date('2034-12-10T10:00:00Z'));
    expect((await pay(marie, 'pm_card_mastercard')).body.status).toBe('succeeded');
    await cron();
    await advanceClock(api, clock, new Date('2034-12-17T10:00:00Z'));
    await cron();
    expect(await expiringEmails()).toEqual([]);

    await advanceClock(api, clock, new Date('2034-12-19T10:00:00Z'));
    await cron();
    const emails = await eventually(async () => {
      const list = await expiringEmails();
      return list.length === 2 && list.every((e: any) => e.status === 'sent') ? list : undefined;
    });
    const forAda = emails.find((e: any) => e.to === 'ada@example.com');
    expect(forAda).toMatchObject({ kind: 'card_expiring', payment: adaPaid.body.id, created_at: '2034-12-19T10:00:00Z', transport: 'smtp' });
    const mail = smtp.received.find((m) => m.to.includes('ada@example.com'))!;
    expect(mail.subject).toBe('Your card ending 4242 expires soon: please update it for Acme');
    expect(mail.text).toContain('Hi Ada,');
    expect(mail.text).toContain('The card you pay Acme with (ending 4242) expires at the end of December 2034, before your next payment on January 5, 2035.');
    expect(mail.text).toMatch(/Update your payment method:\nhttps:\/\/billing\.acme\.example\/card\?payment=pay_\w+&token=[\w.-]+/);
    expect(mail.html).toContain('expires at the end of December 2034');
    // Marie: only about the Mastercard she pays with now, in French.
    const toMarie = smtp.received.filter((m) => m.to.includes('marie@example.fr'));
    expect(toMarie).toHaveLength(1);
    expect(toMarie[0]!.subject).toBe('Votre carte se terminant par 4444 expire bientôt : mettez-la à jour pour Acme');
    expect(toMarie[0]!.text).toContain('avant votre prochain paiement le 10 janvier 2035');

    // However often the scheduler calls, once.
    await cron();
    await advanceClock(api, clock, new Date('2034-12-28T10:00:00Z'));
    await cron();
    expect(await expiringEmails()).toHaveLength(2);
    expect(smtp.received.filter((m) => m.subject.includes('expire'))).toHaveLength(2);
  }, 120_000);
});
