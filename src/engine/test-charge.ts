import { randomBytes } from 'node:crypto';
import { RescueError, invalid } from '../errors.ts';
import type { ChargeResult } from '../gateways/gateway.ts';
import type { GatewayResolver } from './run-attempts.ts';

// "Send a test charge" to the merchant's own http gateway, in test mode only: it shows that Rescue
// reaches the endpoint, that the endpoint checks the signature, and how it answers. It is one call
// under its own fresh idempotency key, tied to no payment, and nothing is written.

export const TEST_CHARGE = { amount: 100, currency: 'usd', paymentMethod: 'pm_rescue_test_charge' } as const;

export interface TestChargeResult {
  result: ChargeResult;
  latencyMs: number;
  idempotencyKey: string;
}

export async function sendTestCharge(gatewayFor: GatewayResolver, o: { accountId: string; livemode: boolean; gateway: string | null; now: Date; nowMs: () => number }): Promise<TestChargeResult> {
  // A live gateway moves real money: a test charge there would be a real charge nobody asked for.
  if (o.livemode) throw invalid('gateway', 'Test charges are for test mode: in live mode a charge moves real money.');
  const gateway = await gatewayFor(o.accountId, false, o.gateway);
  if (gateway.type !== 'http') throw invalid('gateway', `The ${o.gateway ?? 'default'} gateway is the ${gateway.type === 'sandbox' ? 'sandbox card network' : gateway.type} one; test charges are for your own http endpoint.`);
  const id = `test_charge_${randomBytes(12).toString('hex')}`;
  const started = o.nowMs();
  const [answer] = await gateway.charge([
    {
      accountId: o.accountId,
      livemode: false,
      attemptId: id,
      idempotencyKey: id,
      attemptedAt: o.now,
      retryNumber: 0,
      firstFailureAt: null,
      payment: { id, amount: TEST_CHARGE.amount, currency: TEST_CHARGE.currency, metadata: { rescue_test_charge: 'true' } },
      customer: null,
      paymentMethod: TEST_CHARGE.paymentMethod,
    },
  ]);
  if (!answer || answer.status === 'not_sent') throw new RescueError('internal_error', 'The test charge was not sent.');
  return { result: answer, latencyMs: o.nowMs() - started, idempotencyKey: id };
}
