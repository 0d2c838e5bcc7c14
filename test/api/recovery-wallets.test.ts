import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceClock, startTestRescue, type Client, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';

// Wallet types (paymentMethodType): tracked on the hand-off, its attempts and its events; they move
// the predicted recovery score (network tokens: +3% approval per retry, Visa Token Service, see
// domain/wallets.ts) and the strategy (no account-updater lookup for a network token).

const DAY = 86_400_000;

let t: TestRescue;
let api: Client;
let merchant: Merchant;
beforeAll(async () => {
  merchant = await startMerchant((call) => ({ charge: { status: 'succeeded', transaction_id: `txn_${call.body.attempt_id}` } }));
  t = await startTestRescue();
  api = t.client((await t.signup()).testKey);
});
afterAll(async () => {
  await t?.close();
  await merchant?.close();
});

let n = 0;
const execute = (body: Record<string, unknown>) =>
  api.post('/api/recovery/execute', { amount: 1200, currency: 'USD', originalDeclineCode: 'insufficient_funds', idempotencyKey: `w_${++n}`, ...body });

describe('wallet types', () => {
  it.each(['card', 'apple_pay', 'google_pay', 'paypal', 'venmo'])('%s is tracked on the hand-off, its payment methods and its attempts', async (type) => {
    const res = await execute({ paymentMethodToken: `pm_card_visa_chargeDeclinedInsufficientFunds_${type}`, paymentMethodType: type });
    expect(res.status).toBe(202);
    expect(res.body.recovery.paymentMethodType).toBe(type);
    expect(res.body.recovery.paymentMethods[0].type).toBe(type);
  });

  it('defaults to card, as the seed says', async () => {
    const res = await execute({ paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds_default' });
    expect(res.body.recovery.paymentMethodType).toBe('card');
  });

  it('a network-token wallet scores higher than a card with the same decline; PayPal and Venmo do not ride network tokens', async () => {
    const score = async (type: string, code: string) =>
      (await execute({ paymentMethodToken: `pm_card_visa_chargeDeclinedInsufficientFunds_s${n}`, paymentMethodType: type, originalDeclineCode: code })).body.recoveryScore;
    // Insufficient funds, 4 retries: card 0.7 × (1 − 0.35⁴) = 68.9 %; Apple Pay 0.7 × (1 − (1 − 0.65 × 1.03)⁴) = 69.2 %.
    expect(await score('card', 'insufficient_funds')).toBe(68.9);
    expect(await score('apple_pay', 'insufficient_funds')).toBe(69.2);
    expect(await score('google_pay', 'insufficient_funds')).toBe(69.2);
    expect(await score('paypal', 'insufficient_funds')).toBe(68.9);
    expect(await score('venmo', 'insufficient_funds')).toBe(68.9);
    const card = await score('card', 'do_not_honor');
    const wallet = await score('google_pay', 'do_not_honor');
    expect(wallet).toBeGreaterThan(card);
    // A hard decline is blocked (403); its score is 0. (Another card: a stolen-card decline blocks the card for 30 days.)
    const hard = await execute({ paymentMethodToken: 'pm_card_amex', paymentMethodType: 'apple_pay', originalDeclineCode: 'stolen_card' });
    expect(hard.status).toBe(403);
    expect(hard.body.recovery.prediction.recoveryScore).toBe(0);
  });

  it('the reasoning says why', async () => {
    const res = await execute({ paymentMethodToken: 'pm_card_visa_chargeDeclinedInsufficientFunds_r', paymentMethodType: 'apple_pay' });
    expect(res.body.recovery.prediction.reasoning).toContain('Apple Pay charges a network token');
    expect(res.body.message).toContain('Apple Pay');
  });

  it('a network token skips the account updater; a card asks it before each retry', async () => {
    const start = new Date('2026-04-01T15:00:00Z');
    const clock = (await api.post('/v2/test_clocks', { frozen_time: start.getTime() / 1000 })).body;
    const customer = (await api.post('/v2/customers', { email: 'w@example.com', timezone: 'UTC', test_clock: clock.id })).body;
    // An expired card: the updater finds its replacement (the sandbox's expired test card becomes pm_card_visa).
    const card = await execute({ paymentMethodToken: 'pm_card_chargeDeclinedExpiredCard', originalDeclineCode: 'expired_card', customer: customer.id });
    // A Google Pay token whose card was reissued: the token service already points it at the new card.
    const wallet = await execute({ paymentMethodToken: 'pm_card_mastercard', paymentMethodType: 'google_pay', originalDeclineCode: 'expired_card', customer: customer.id });
    expect([card.status, wallet.status]).toEqual([202, 202]);
    expect(card.body.recovery.prediction.reasoning).toContain('account updater');
    expect(wallet.body.recovery.prediction.reasoning).not.toContain('account updater');
    await advanceClock(api, clock.id, new Date(start.getTime() + 20 * DAY));
    const retries = async (r: any) => (await api.get(`/v2/events?object=${r.body.recovery.payment}&type=payment.rescue_retry`)).body.data;
    expect((await retries(card)).map((e: any) => [e.data.account_updater_checked, e.data.card_was_updated])).toEqual([[true, true]]);
    expect((await retries(wallet)).map((e: any) => [e.data.account_updater_checked, e.data.card_was_updated])).toEqual([[false, false]]);
    for (const r of [card, wallet]) expect((await api.get(`/api/recovery/${r.body.recoveryId}`)).body.status).toBe('recovered');
    const success = (await api.get(`/v2/events?object=${wallet.body.recovery.payment}&type=recovery.success`)).body.data[0].data;
    expect(success.paymentMethod).toMatchObject({ type: 'google_pay', brand: 'mastercard', last4: '4444' });
  });

  it('the merchant\'s own gateway is told the wallet type with each charge', async () => {
    const other = t.client((await t.signup()).testKey);
    expect((await other.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret })).status).toBe(200);
    const res = await other.post('/api/recovery/execute', { paymentMethodToken: 'applepay_tok_1', paymentMethodType: 'apple_pay', amount: 800, currency: 'USD', originalDeclineCode: 'issuer_unavailable' });
    expect(res.status).toBe(200);
    const call = merchant.calls.find((c) => c.body?.payment === res.body.recovery.payment);
    expect(call?.body).toMatchObject({ payment_method: 'applepay_tok_1', payment_method_type: 'apple_pay', retry_number: 1 });
  });
});
