import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.ts';
import { ENGINES } from '../support/databases.ts';
import { startEmailReceiver, type EmailReceiver } from '../support/email-receiver.ts';
import { eventually, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';

// With RESCUE_SMTP_URL set, dunning emails leave through SMTP (nodemailer) and a real SMTP server
// receives them: the right recipient, sender, subject, and a link that opens the update page.
// Refusals are retried with backoff and end `failed` after six tries, with the server's answer.

const MIN = 60_000;

describe.each(ENGINES)('dunning emails over SMTP (%s)', (engine) => {
  let smtp: EmailReceiver;
  let t: TestRescue;
  let api: Client;
  let customer: string;
  // The engine's clock: moved by hand to step through retry backoff without waiting.
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };

  beforeAll(async () => {
    smtp = await startEmailReceiver();
    t = await startTestRescue({ engine, clock, env: { RESCUE_SMTP_URL: smtp.url, RESCUE_EMAIL_FROM: 'billing@rescue.example' } });
    api = t.client((await t.signup()).testKey);
    customer = (await api.post('/v2/customers', { email: 'grace@example.com', name: 'Grace', timezone: 'America/New_York', locale: 'en-US' })).body.id;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  const failPayment = async (amount: number) =>
    (await api.post('/v2/payments', { amount, currency: 'USD', customer, payment_method: 'pm_card_chargeDeclinedInsufficientFunds', off_session: true, auto_rescue: { enabled: true } })).body.id as string;

  it('sends the payment-failed email through SMTP; its link opens the update page', async () => {
    expect((await api.post('/v2/settings/dunning', { from_name: 'Acme Billing', reply_to: 'help@acme.example' })).status).toBe(200);
    const id = await failPayment(2500);
    const mail = await eventually(async () => smtp.received.find((m) => m.text.includes('$25.00')));
    expect(mail.to).toEqual(['grace@example.com']);
    expect(mail.from).toBe('"Acme Billing" <billing@rescue.example>');
    expect(mail.replyTo).toBe('help@acme.example');
    expect(mail.subject).toBe("Your payment to Acme didn't go through");
    expect(mail.text).toContain('Hi Grace,');
    expect(mail.html).toContain('$25.00');
    const email = await eventually(async () => {
      const e = (await api.get(`/v2/emails?payment=${id}`)).body.data[0];
      return e?.status === 'sent' ? e : undefined;
    });
    expect(email).toMatchObject({ kind: 'payment_failed', transport: 'smtp', to: 'grace@example.com', subject: mail.subject, error: null });
    expect(mail.messageId).toBe(`<${email.id}@rescue.example>`);
    expect(email.text).toBe(mail.text);

    const link = /(http:\/\/\S+\/update-payment\/\S+)/.exec(mail.text)![1]!;
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('Acme Billing');
    expect(html).toContain('$25.00');
    expect(html).toContain('did not have enough funds');
    expect(html).not.toContain('insufficient_funds');
    expect(html).toContain('<label for="card_number">Card number</label>');
  });

  it('retries an SMTP refusal with backoff, then ends failed with the answer recorded', async () => {
    const before = smtp.received.length;
    smtp.failNext(1, 451, 'Mailbox busy, try later');
    const id = await failPayment(3100);
    const queued = await eventually(async () => {
      const e = (await api.get(`/v2/emails?payment=${id}`)).body.data[0];
      return e?.attempts === 1 ? e : undefined;
    });
    expect(queued.status).toBe('queued');
    expect(queued.error).toContain('451');
    // Not before its backoff (1 minute), then sent.
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received.length).toBe(before);
    offset += MIN + 1000;
    t.rescue.worker!.wake();
    const sent = await eventually(async () => {
      const e = (await api.get(`/v2/emails/${queued.id}`)).body;
      return e.status === 'sent' ? e : undefined;
    });
    expect(sent).toMatchObject({ attempts: 2, error: null });
    expect(smtp.received.filter((m) => m.text.includes('$31.00')).length).toBe(1);

    // Six refusals: 1, 5, 30, 120, 360 minutes apart, then failed.
    smtp.failNext(6, 452, 'Insufficient system storage');
    const id2 = await failPayment(3200);
    const steps = [0, 1, 5, 30, 120, 360];
    let email: any;
    for (const [i, minutes] of steps.entries()) {
      offset += minutes * MIN + 1000;
      t.rescue.worker!.wake();
      email = await eventually(async () => {
        const e = (await api.get(`/v2/emails?payment=${id2}`)).body.data[0];
        return e?.attempts === i + 1 && e.status !== 'queued' === (i === 5) ? e : undefined;
      });
    }
    expect(email).toMatchObject({ status: 'failed', attempts: 6, sent_at: null });
    expect(email.error).toContain('452');
    expect(smtp.received.filter((m) => m.text.includes('$32.00')).length).toBe(0);
  }, 60_000);
});
