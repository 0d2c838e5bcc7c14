import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CardError, IdempotencyError, Rescue } from '@rescue/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { miniExpress } from '../support/revtain-merchant-app.ts';

// Seed 003's JavaScript examples, as the Plexy docs print them, run by Node 20 (the oldest Node the
// client supports; no type stripping) against a real Rescue, with only the import, the base URL and
// the key changed; and seed 004's backend flow written with @rescue/client in place of fetch.

const run = promisify(execFile);
const NODE20 = '/usr/bin/node';
const root = join(import.meta.dirname, '../..');

// ---- seeds/003, "Per-Payment Basis" (JavaScript), verbatim ----
const SEED_CREATE = `import { Plexy } from '@plexy/plexy-web';
const plexy = new Plexy({
apiKey: process.env.PLEXY_SECRET_KEY,
});
const payment = await plexy.payments.create({
amount: 4999,
currency: 'USD',
customer: 'cus_abc123',
payment_method: 'pm_card_visa_abc123',
off_session: true,
auto_rescue: {
enabled: true,
max_retries: 4,
retry_window_days: 14,
},
metadata: {
subscription_id: 'sub_xyz789',
},
});
if (payment.status === 'requires_rescue') {
console.log('Payment failed, Auto Rescue initiated');
console.log('First retry scheduled:', payment.rescue_schedule.next_retry_at);
}`;

// ---- seeds/003, "Custom Retry Schedule", verbatim ----
const SEED_CUSTOM = `const payment = await plexy.payments.create({
amount: 4999,
currency: 'USD',
customer: 'cus_abc123',
payment_method: 'pm_card_visa_abc123',
off_session: true,
auto_rescue: {
enabled: true,
retry_schedule: 'custom',
custom_schedule_days: [1, 2, 5, 10, 15], // Retry on days 1, 2, 5, 10, 15
max_retries: 5,
},
});`;

// ---- seeds/003, "List Payments in Rescue", verbatim ----
const SEED_LIST = `const payments = await plexy.payments.list({
status: 'requires_rescue',
});
for (const payment of payments.data) {
console.log(\`Payment \${payment.id}: next retry \${payment.rescue_schedule.next_retry_at}\`);
}`;

// ---- seeds/003, "Cancel Auto Rescue", verbatim ----
const SEED_CANCEL = `const payment = await plexy.payments.cancelRescue('pay_xyz789');
console.log('Rescue cancelled:', payment.auto_rescue.status);`;

const IMPORT = `import { Plexy } from '@plexy/plexy-web';`;
const KEY = `apiKey: process.env.PLEXY_SECRET_KEY,`;
/** The whole change: the import, and the base URL beside the key. */
const pointedAtRescue = (code: string) =>
  replaceOnce(replaceOnce(code, IMPORT, `import { Rescue as Plexy } from '@rescue/client';`), KEY, `${KEY} baseUrl: process.env.RESCUE_URL,`);
/** The later examples use the first one's `plexy`. */
const PREAMBLE = SEED_CREATE.slice(0, SEED_CREATE.indexOf('const payment'));

function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from), `exactly one ${from}`).toHaveLength(2);
  return text.replace(from, () => to);
}

let t: TestRescue;
let key: string;
let rescue: Rescue;
let dir: string;

beforeAll(async () => {
  t = await startTestRescue({ worker: false });
  key = (await t.signup()).testKey;
  rescue = new Rescue({ apiKey: key, baseUrl: t.url });
  // Resolved from the worktree, so `@rescue/client` is this repository's package (its dist/).
  dir = mkdtempSync(join(root, 'test/client/.seed-run-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await t?.close();
});

/** Runs a program on Node 20 as a merchant would (`node example.mjs`); its console output. */
async function runOnNode20(name: string, code: string, env: Record<string, string> = {}): Promise<string> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  const { stdout } = await run(NODE20, [file], { env: { PATH: process.env.PATH ?? '', PLEXY_SECRET_KEY: key, RESCUE_URL: t.url, ...env }, timeout: 30_000 });
  return stdout;
}

describe('seed 003 (Plexy Auto Rescue) JavaScript examples through @rescue/client', () => {
  it('runs on Node 20 as plain JavaScript', async () => {
    expect((await run(NODE20, ['--version'])).stdout).toMatch(/^v20\./);
  });

  it('"Per-Payment Basis": the payment is made for cus_abc123, created on first use, and the sandbox says how it read the token', async () => {
    const out = await runOnNode20('create', `${pointedAtRescue(SEED_CREATE)}\nconsole.log(JSON.stringify(payment));`);
    const payment = JSON.parse(out.trim().split('\n').at(-1)!);
    // pm_card_visa_abc123 is the sandbox's Visa test card with the merchant's suffix: it approves.
    expect(payment).toMatchObject({ object: 'payment', status: 'succeeded', amount: 4999, currency: 'USD', customer: 'cus_abc123', payment_method: 'pm_card_visa_abc123', metadata: { subscription_id: 'sub_xyz789' } });
    expect(payment.sandbox_note).toContain('pm_card_visa');
    expect(out).not.toContain('Auto Rescue initiated');
    const customer = await rescue.customers.retrieve('cus_abc123');
    expect(customer).toMatchObject({ id: 'cus_abc123', object: 'customer', timezone: 'UTC', livemode: false });
  });

  it('"Per-Payment Basis" with a card the sandbox declines prints the seed\'s two lines', async () => {
    const declining = replaceOnce(pointedAtRescue(SEED_CREATE), `payment_method: 'pm_card_visa_abc123'`, `payment_method: 'pm_card_chargeDeclinedInsufficientFunds'`);
    const out = await runOnNode20('create-declined', declining);
    expect(out).toMatch(/^Payment failed, Auto Rescue initiated\nFirst retry scheduled: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
  });

  it('"Custom Retry Schedule" is accepted as written (max_retries 5, days up to 15)', async () => {
    const out = await runOnNode20('custom', `${pointedAtRescue(PREAMBLE)}${SEED_CUSTOM}\nconsole.log(JSON.stringify(payment));`);
    const payment = JSON.parse(out.trim());
    expect(payment).toMatchObject({ status: 'succeeded', customer: 'cus_abc123', auto_rescue: { enabled: true, max_retries: 5 } });
  });

  it('"List Payments in Rescue" prints each payment in rescue with its next retry', async () => {
    const inRescue = await rescue.payments.create({ amount: 1500, currency: 'USD', customer: 'cus_abc123', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } });
    expect(inRescue.status).toBe('requires_rescue');
    const out = await runOnNode20('list', `${pointedAtRescue(PREAMBLE)}${SEED_LIST}`);
    expect(out).toContain(`Payment ${inRescue.id}: next retry ${inRescue.rescue_schedule!.next_retry_at}\n`);
    const listed = (await rescue.payments.list({ status: 'requires_rescue' })).data;
    expect(out.trim().split('\n')).toHaveLength(listed.length);
  });

  it('"Cancel Auto Rescue" cancels it (the seed\'s placeholder id replaced by a real one)', async () => {
    const inRescue = await rescue.payments.create({ amount: 2500, currency: 'USD', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', auto_rescue: { enabled: true } });
    const code = replaceOnce(`${pointedAtRescue(PREAMBLE)}${SEED_CANCEL}`, `'pay_xyz789'`, JSON.stringify(inRescue.id));
    expect(await runOnNode20('cancel', code)).toBe('Rescue cancelled: cancelled\n');
    expect((await rescue.payments.retrieve(inRescue.id)).status).toBe('rescue_cancelled');
  });
});

describe('seed 004 (Revtain) "Backend: Charge, Then Recover" through @rescue/client', () => {
  /** The merchant's primary gateway (`stripe.paymentIntents.create` in the seed): declines by customer. */
  const declines = new Map([
    ['cus_outage', 'issuer_unavailable'],
    ['cus_broke', 'insufficient_funds'],
    ['cus_thief', 'stolen_card'],
  ]);
  let n = 0;
  const stripe = {
    paymentIntents: {
      async create(p: { amount: number; customer: string }) {
        const code = declines.get(p.customer);
        if (code) throw Object.assign(new Error('Your card was declined.'), { decline_code: code });
        return { id: `pi_primary_${++n}`, status: 'succeeded' };
      },
    },
  };
  let orderId = '';
  const app = miniExpress();
  let backendUrl: string;
  let revtain: Rescue;

  beforeAll(async () => {
    // An account of its own, so Lift counts this flow's charges only.
    revtain = new Rescue({ apiKey: (await t.signup()).testKey, baseUrl: t.url });
    // The seed's handler with its two fetch calls made through the client: the 200/202 answers
    // resolve, the 403 and 409 ones reject with typed errors carrying the same fields.
    app.post('/your-backend/charge', async (req: any, res: any) => {
      const { paymentMethodId, amount, stripeCustomerId } = req.body;
      let declineCode;
      try {
        const charge = await stripe.paymentIntents.create({ amount, customer: stripeCustomerId });
        await revtain.recovery.pulse({ amount, currency: 'USD', transactionId: charge.id });
        return res.json({ success: true, chargeId: charge.id });
      } catch (stripeError: any) {
        declineCode = stripeError.decline_code;
      }
      try {
        const result = await revtain.recovery.execute({
          paymentMethodToken: paymentMethodId,
          amount,
          currency: 'USD',
          originalDeclineCode: declineCode,
          cardOrigin: 'US',
          idempotencyKey: `order_${orderId}_recovery`,
          paymentMethodType: 'card',
          fallbackPaymentMethodTokens: [],
        });
        if ('recovered' in result) return res.json({ success: true, recovered: true, transactionId: result.transactionId });
        return res.json({ success: false, queued: true, message: result.message });
      } catch (err) {
        if (err instanceof CardError) return res.status(403).json({ success: false, blocked: true, error: err.body!.error });
        if (err instanceof IdempotencyError) return res.json({ success: false, duplicate: true, existing: err.body!.existingTransactionId });
        return res.json({ success: false, error: (err as Error).message });
      }
    });
    backendUrl = await app.listen();
  });
  afterAll(() => app.close());

  async function checkout(order: string, body: { paymentMethodId: string; amount: number; stripeCustomerId: string }) {
    orderId = order;
    const res = await fetch(`${backendUrl}/your-backend/charge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('organic success: a pulse, counted in Lift', async () => {
    expect(await checkout('1', { paymentMethodId: 'pm_card_visa', amount: 2500, stripeCustomerId: 'cus_ok' })).toEqual({ status: 200, body: { success: true, chargeId: 'pi_primary_1' } });
    const lift = await revtain.recovery.lift();
    expect(lift.totals).toEqual([expect.objectContaining({ currency: 'USD', organicRevenue: 2500, organicCount: 1 })]);
  });

  it('200: an issuer outage is recovered by the immediate retry', async () => {
    const res = await checkout('2', { paymentMethodId: 'pm_card_visa', amount: 4999, stripeCustomerId: 'cus_outage' });
    expect(res).toEqual({ status: 200, body: { success: true, recovered: true, transactionId: expect.stringMatching(/^txn_sbx_/) } });
  });

  it('202: insufficient funds is queued, and the hand-off can be read back', async () => {
    const res = await checkout('3', { paymentMethodId: 'pm_card_visa_chargeDeclinedInsufficientFunds', amount: 1999, stripeCustomerId: 'cus_broke' });
    expect(res.body).toEqual({ success: false, queued: true, message: expect.stringMatching(/^Recovery queued: next retry at /) });
    // Auto-pagination over a family of events: the outage recovered above, nothing yet for this one.
    const types: string[] = [];
    for await (const e of revtain.events.list({ type: 'recovery.*', limit: 1 })) types.push(e.type);
    expect(types).toEqual(['recovery.success']);
    const queued = (await revtain.payments.list({ status: 'requires_rescue' })).data.find((p) => p.amount === 1999)!;
    expect(queued.failure_code).toBe('insufficient_funds');
  });

  it('403: a stolen card is blocked (CardError), 409: the same order again is a duplicate (IdempotencyError)', async () => {
    const blocked = await checkout('4', { paymentMethodId: 'pm_card_visa_chargeDeclinedStolenCard', amount: 1500, stripeCustomerId: 'cus_thief' });
    expect(blocked).toEqual({ status: 403, body: { success: false, blocked: true, error: expect.objectContaining({ type: 'card_error', code: 'recovery_blocked' }) } });
    const first = await checkout('5', { paymentMethodId: 'pm_card_mastercard', amount: 3000, stripeCustomerId: 'cus_outage' });
    expect(first.body).toMatchObject({ success: true, recovered: true });
    expect(await checkout('5', { paymentMethodId: 'pm_card_mastercard', amount: 3000, stripeCustomerId: 'cus_outage' })).toEqual({ status: 200, body: { success: false, duplicate: true, existing: first.body.transactionId } });
  });

  it('"Optional: Pre-Screening Risky Payments" through predict.risk', async () => {
    const { success, prediction } = await revtain.predict.risk({ paymentMethodToken: 'pm_1234567890', amount: 5000, currency: 'USD' });
    expect(success).toBe(true);
    expect(prediction).toEqual({ riskScore: expect.any(Number), recommendation: expect.stringMatching(/^(proceed|proceed_with_caution|delay|block)$/), reasoning: expect.any(String) });
  });
});
