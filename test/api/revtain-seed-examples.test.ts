import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.ts';
import { Rescue } from '@rescue/client';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { startMerchant, type ChargeCall, type Merchant } from '../support/merchant.ts';
import { miniExpress, type MiniApp } from '../support/revtain-merchant-app.ts';

// The Revtain seed's two server examples (seeds/004, "Backend: Charge, Then Recover" and "Custom /
// In-House Billing"), transcribed as they are written — only the base URL and the key changed —
// against a real Rescue server: once charging the sandbox card network, once charging a real HTTP
// merchant gateway (test/support/merchant.ts). Each branch (organic, 200, 202, 403, 409) is reached
// by real inputs: the decline code the merchant's own gateway returned and the token handed over.
// What the test itself reads back (events, Lift, payments, hand-offs) it reads through @rescue/client;
// test/client/seed-examples.test.ts runs the same flow with the client in place of the seed's fetch.

/** The merchant's primary gateway in the seed (`stripe.paymentIntents.create`): declines by customer. */
function primaryGateway(declines: Map<string, string>) {
  let n = 0;
  const charges: { customer: string; amount: number }[] = [];
  return {
    charges,
    paymentIntents: {
      async create(p: { amount: number; currency: string; customer: string; payment_method: string; confirm: boolean }) {
        const code = declines.get(p.customer);
        if (code) throw Object.assign(new Error('Your card was declined.'), { type: 'StripeCardError', decline_code: code });
        charges.push({ customer: p.customer, amount: p.amount });
        return { id: `pi_primary_${++n}`, status: 'succeeded' };
      },
    },
  };
}

/** The seed's Express backend. `orderId` and `payment` are free variables in the seed; the test sets them. */
function seedBackend(REVTAIN_BASE_URL: string, stripe: ReturnType<typeof primaryGateway>) {
  const app: MiniApp = miniExpress();
  let orderId = '';
  let payment: any = {};

  // ---- seeds/004 "Backend: Charge, Then Recover", as written ----
  app.post('/your-backend/charge', async (req: any, res: any) => {
    const { paymentMethodId, amount, stripeCustomerId } = req.body;

    let declineCode;

    // 1. Try charging through YOUR primary gateway using YOUR token
    //    (Your normal checkout — Revtain not involved yet)
    try {
      const charge = await stripe.paymentIntents.create({
        amount,
        currency: 'usd',
        customer: stripeCustomerId,
        payment_method: 'pm_xxx',
        confirm: true
      });

      // Log the organic success so Revtain can calculate Lift
      await fetch(`${REVTAIN_BASE_URL}/api/recovery/pulse`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-API-KEY': process.env.REVTAIN_API_KEY!
        },
        body: JSON.stringify({ amount, currency: 'USD', transactionId: charge.id })
      });

      return res.json({ success: true, chargeId: charge.id });
    } catch (stripeError: any) {
      declineCode = stripeError.decline_code;
    }

    // 2. Primary failed — hand off to Revtain
    const recovery = await fetch(`${REVTAIN_BASE_URL}/api/recovery/execute`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-API-KEY': process.env.REVTAIN_API_KEY!
      },
      body: JSON.stringify({
        paymentMethodToken: paymentMethodId,
        amount,
        currency: 'USD',
        originalDeclineCode: declineCode,
        cardOrigin: 'US',
        idempotencyKey: `order_${orderId}_recovery`,
        // Set when the failed charge came from Apple Pay / Google Pay / PayPal.
        // Defaults to 'card' if omitted. Wallet payments get a higher predicted
        // recovery score, so passing this correctly meaningfully lifts results.
        paymentMethodType: payment.paymentMethodType || 'card',
        // Optional: pass any alternative payment tokens you hold for this
        // customer (e.g. a backup card-on-file when the primary is a wallet).
        // Revtain tries each in order if the primary's cascade exhausts on a
        // recoverable decline. Up to 5 supported. No orchestration code needed.
        fallbackPaymentMethodTokens: payment.fallbackTokens || []
      })
    });

    const result: any = await recovery.json();

    if (recovery.status === 200 && result.success) {
      return res.json({ success: true, recovered: true, transactionId: result.transactionId });
    } else if (recovery.status === 202) {
      return res.json({ success: false, queued: true, message: result.message });
    } else if (recovery.status === 403) {
      return res.status(403).json({ success: false, blocked: true, error: result.error });
    } else if (recovery.status === 409) {
      return res.json({ success: false, duplicate: true, existing: result.existingTransactionId });
    }

    return res.json({ success: false, error: result.error || result.message });
  });
  // ---- end of the seed's example ----

  return {
    app,
    order(o: { orderId: string; payment?: any }) {
      orderId = o.orderId;
      payment = o.payment ?? {};
    },
  };
}

/** seeds/004 "Custom / In-House Billing", as written but for the base URL. */
function seedInHouse(baseUrl: string) {
  return async function handlePaymentFailure(payment: any): Promise<any> {
    const recovery = await fetch(`${baseUrl}/api/recovery/execute`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-API-KEY': process.env.REVTAIN_API_KEY!
      },
      body: JSON.stringify({
        paymentMethodToken: payment.paymentToken,
        amount: payment.amountCents,
        currency: payment.currency || 'USD',
        originalDeclineCode: payment.declineCode || 'unknown',
        idempotencyKey: `custom_${payment.id}_recovery`
      })
    });
    return recovery.json();
  };
}

/** Tokens per gateway: the sandbox's test cards, or tokens the merchant's own gateway understands. */
const TOKENS = {
  sandbox: { approves: 'pm_card_visa', nsf: 'pm_card_visa_chargeDeclinedInsufficientFunds', stolen: 'pm_card_visa_chargeDeclinedStolenCard', approves2: 'pm_card_mastercard' },
  merchant: { approves: 'tok_ok_visa', nsf: 'tok_nsf_visa', stolen: 'tok_stolen_visa', approves2: 'tok_ok_mastercard' },
} as const;

describe.each(ENGINES)('the Revtain seed examples against Rescue (%s)', (engine) => {
  let t: TestRescue;
  let merchant: Merchant;
  const keys: Record<'sandbox' | 'merchant', string> = { sandbox: '', merchant: '' };
  const clients = {} as Record<'sandbox' | 'merchant', Rescue>;

  beforeAll(async () => {
    merchant = await startMerchant((call: ChargeCall) => {
      const token = String(call.body?.payment_method ?? '');
      if (token.startsWith('tok_ok')) return { charge: { status: 'succeeded', transaction_id: `txn_merchant_${call.body.attempt_id}` } };
      if (token.startsWith('tok_stolen')) return { charge: { status: 'failed', decline_code: 'stolen_card' } };
      return { charge: { status: 'failed', decline_code: 'insufficient_funds', message: 'Not enough money' } };
    });
    t = await startTestRescue({ engine });
    keys.sandbox = (await t.signup()).testKey;
    keys.merchant = (await t.signup()).testKey;
    clients.sandbox = new Rescue({ apiKey: keys.sandbox, baseUrl: t.url });
    clients.merchant = new Rescue({ apiKey: keys.merchant, baseUrl: t.url });
    // Gateway settings are not in the client: over plain HTTP.
    const gw = await t.client(keys.merchant).post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret });
    expect(gw.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await merchant?.close();
  });

  describe.each(['sandbox', 'merchant'] as const)('charging through the %s', (kind) => {
    const tokens = TOKENS[kind];
    const declines = new Map([
      ['cus_outage', 'issuer_unavailable'],
      ['cus_broke', 'insufficient_funds'],
      ['cus_thief', 'stolen_card'],
    ]);
    const stripe = primaryGateway(declines);
    let backend: ReturnType<typeof seedBackend>;
    let backendUrl: string;
    let api: Rescue;

    beforeAll(async () => {
      process.env.REVTAIN_API_KEY = keys[kind];
      api = clients[kind];
      backend = seedBackend(t.url, stripe);
      backendUrl = await backend.app.listen();
    });
    afterAll(() => backend?.app.close());

    async function checkout(orderId: string, body: { paymentMethodId: string; amount: number; stripeCustomerId: string }, payment?: any) {
      process.env.REVTAIN_API_KEY = keys[kind];
      backend.order({ orderId, payment });
      const res = await fetch(`${backendUrl}/your-backend/charge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    }

    const recoveryEvents = async () => {
      const all: any[] = [];
      for await (const e of api.events.list({ type: 'recovery.*', limit: 100 })) all.push(e);
      return all;
    };

    it('an organic success is charged by the merchant alone and logged as a pulse', async () => {
      const res = await checkout('1001', { paymentMethodId: tokens.approves, amount: 2500, stripeCustomerId: 'cus_ok' });
      expect(res).toEqual({ status: 200, body: { success: true, chargeId: expect.stringMatching(/^pi_primary_/) } });
      const lift = await api.recovery.lift();
      expect(lift.totals).toEqual([expect.objectContaining({ currency: 'USD', organicRevenue: 2500, organicCount: 1 })]);
    });

    it('200: an issuer outage is retried once inside the request and recovered', async () => {
      const before = merchant.calls.length;
      const res = await checkout('1002', { paymentMethodId: tokens.approves, amount: 4999, stripeCustomerId: 'cus_outage' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true, recovered: true, transactionId: expect.any(String) });
      const success = (await recoveryEvents()).find((e: any) => e.type === 'recovery.success' && e.data.transactionId === res.body.transactionId);
      expect(success.data).toMatchObject({ amount: 4999, currency: 'USD', attempts: 2, recoveryId: expect.stringMatching(/^rec_/) });
      expect(success.data.paymentMethod).toEqual(expect.objectContaining({ type: 'card', position: 0, fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) }));
      expect(JSON.stringify(success.data)).not.toContain(tokens.approves);
      if (kind === 'merchant') {
        // One signed charge: the retry. The first attempt failed at the merchant's primary gateway and was only recorded.
        const calls = merchant.calls.slice(before);
        expect(calls).toHaveLength(1);
        expect(calls[0]!.signatureError).toBeNull();
        expect(calls[0]!.body).toMatchObject({ payment_method: tokens.approves, amount: 4999, currency: 'USD', retry_number: 1 });
        expect(res.body.transactionId).toBe(`txn_merchant_${calls[0]!.body.attempt_id}`);
      } else {
        expect(res.body.transactionId).toMatch(/^txn_sbx_/);
      }
    });

    it('202: insufficient funds is queued for retries at likely paydays', async () => {
      const before = merchant.calls.length;
      const res = await checkout('1003', { paymentMethodId: tokens.nsf, amount: 1999, stripeCustomerId: 'cus_broke' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: false, queued: true, message: expect.stringMatching(/^Recovery queued: next retry at \d{4}-\d\d-\d\dT/) });
      // Nothing charged now: the first retry waits for a payday.
      expect(merchant.calls.length).toBe(before);
      const queued = (await api.payments.list({ status: 'requires_rescue' })).data;
      expect(queued.some((p) => p.amount === 1999 && p.failure_code === 'insufficient_funds')).toBe(true);
    });

    it('403: a stolen card is blocked, never retried', async () => {
      const before = merchant.calls.length;
      const res = await checkout('1004', { paymentMethodId: tokens.stolen, amount: 1500, stripeCustomerId: 'cus_thief' });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ success: false, blocked: true, error: expect.objectContaining({ type: 'card_error', code: 'recovery_blocked', message: expect.stringContaining('stolen') }) });
      expect(merchant.calls.length).toBe(before);
      const blocked = (await recoveryEvents()).find((e: any) => e.type === 'recovery.blocked' && e.data.amount === 1500);
      expect(blocked.data).toMatchObject({ reason: 'hard_decline', declineCode: 'stolen_card', attempts: 1, recoveryId: expect.stringMatching(/^rec_/) });
    });

    it('409: the same order handed over again is a duplicate carrying the first outcome', async () => {
      const first = await checkout('1005', { paymentMethodId: tokens.approves2, amount: 3000, stripeCustomerId: 'cus_outage' });
      expect(first.body).toMatchObject({ success: true, recovered: true });
      const again = await checkout('1005', { paymentMethodId: tokens.approves2, amount: 3000, stripeCustomerId: 'cus_outage' });
      expect(again).toEqual({ status: 200, body: { success: false, duplicate: true, existing: first.body.transactionId } });
      // A queued hand-off has no transaction yet.
      await checkout('1006', { paymentMethodId: tokens.nsf, amount: 1200, stripeCustomerId: 'cus_broke' });
      expect((await checkout('1006', { paymentMethodId: tokens.nsf, amount: 1200, stripeCustomerId: 'cus_broke' })).body).toEqual({ success: false, duplicate: true, existing: null });
    });

    it('the in-house billing example gets the same four answers', async () => {
      process.env.REVTAIN_API_KEY = keys[kind];
      const handlePaymentFailure = seedInHouse(t.url);
      const recovered = await handlePaymentFailure({ id: `inv_${kind}_1`, paymentToken: tokens.approves, amountCents: 900, currency: 'EUR', declineCode: 'network_timeout' });
      expect(recovered).toMatchObject({ success: true, recovered: true, transactionId: expect.any(String), recoveryId: expect.stringMatching(/^rec_/) });
      // `declineCode || 'unknown'`: a decline Rescue has never seen is retried conservatively.
      const queued = await handlePaymentFailure({ id: `inv_${kind}_2`, paymentToken: tokens.nsf, amountCents: 900 });
      expect(queued).toMatchObject({ success: false, queued: true, recoveryId: expect.stringMatching(/^rec_/), nextRetryAt: expect.any(String) });
      expect(await api.recovery.retrieve(queued.recoveryId)).toMatchObject({ status: 'queued', originalDeclineCode: 'unknown', currency: 'USD', amount: 900 });
      const blocked = await handlePaymentFailure({ id: `inv_${kind}_3`, paymentToken: tokens.stolen, amountCents: 900, declineCode: 'fraudulent' });
      expect(blocked).toMatchObject({ success: false, blocked: true, reason: 'hard_decline', error: { code: 'recovery_blocked' } });
      const duplicate = await handlePaymentFailure({ id: `inv_${kind}_1`, paymentToken: tokens.approves, amountCents: 900, currency: 'EUR', declineCode: 'network_timeout' });
      expect(duplicate).toMatchObject({ success: false, duplicate: true, existingTransactionId: recovered.transactionId, recoveryId: recovered.recoveryId });
    });
  });
});
