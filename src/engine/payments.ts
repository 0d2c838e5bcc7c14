import type { Clock } from '../clock.ts';
import { resolveRescuePolicy, type AutoRescueRequest } from '../domain/auto-rescue-policy.ts';
import { RescueError } from '../errors.ts';
import { applyLifecycleIn, claimPlannedNow } from '../store/lifecycle-writes.ts';
import { cancelRescue as cancelRescueChange } from './lifecycle.ts';
import { newId } from '../ids.ts';
import { customerOnFirstUse } from '../store/customers.ts';
import type { Db } from '../store/db.ts';
import { getPaymentRecord, getPaymentRecords, insertPaymentRows, type PaymentRecord, type Scope } from '../store/payments.ts';
import type { AttemptContext } from '../store/attempts.ts';
import type { CustomerRow } from '../store/schema.ts';
import { getSettings, settingsKey } from '../store/settings.ts';
import { routeToken } from '../domain/gateway-routing.ts';
import { getTestClock } from '../store/test-clocks.ts';
import { firstAttemptRow } from './first-attempt.ts';
import { runAttempts, type GatewayResolver } from './run-attempts.ts';

// The payment operations behind the API: create (and charge at once), retry now, cancel rescue.

export interface PaymentDeps {
  db: Db;
  clock: Clock;
  gatewayFor: GatewayResolver;
  leaseMs: number;
  workerId: string;
}

export interface CreatePaymentInput {
  amount: number;
  currency: string;
  customer: string | null;
  payment_method: string;
  off_session: boolean;
  auto_rescue: AutoRescueRequest | undefined;
  metadata: Record<string, string>;
  idempotencyKey: string | null;
}

export async function createPayment(d: PaymentDeps, scope: Scope, input: CreatePaymentInput): Promise<PaymentRecord> {
  const [record] = await createPayments(d, scope, [input]);
  return record!;
}

/**
 * Creates payments and charges each once, together: one transaction for the rows, one batch of
 * first attempts through the gateways (as a clock advance runs its retries). A backtest creates a
 * day's renewals this way; the API creates one at a time.
 */
export async function createPayments(d: PaymentDeps, scope: Scope, inputs: readonly CreatePaymentInput[]): Promise<PaymentRecord[]> {
  if (inputs.length === 0) return [];
  const customerIds = [...new Set(inputs.map((i) => i.customer).filter((c): c is string => c !== null))];
  const [settings, customerRows] = await Promise.all([
    getSettings(d.db, scope.accountId, scope.livemode),
    // Seed 003 names its customer (cus_abc123) without creating it first: created on first use.
    Promise.all(customerIds.map((id) => customerOnFirstUse(d.db, scope, id, d.clock.now()))),
  ]);
  const customers = new Map<string, CustomerRow>(customerRows.map((c) => [c.id, c]));
  const nowByClock = new Map<string | null, Date>();
  const nowOn = async (clock: string | null) => nowByClock.get(clock) ?? nowByClock.set(clock, await nowFor(d, scope, clock)).get(clock)!;
  const rows = [];
  for (const input of inputs) {
    const customer = input.customer ? customers.get(input.customer)! : null;
    const testClock = customer?.test_clock ?? null;
    const now = await nowOn(testClock);
    const policy = resolveRescuePolicy(input.auto_rescue, { amount: input.amount, offSession: input.off_session, metadata: input.metadata }, settings.autoRescue);
    // The token's issuer, by its shape (gateway-routing.ts); with no named gateways, the default one.
    const route = routeToken(input.payment_method, null, settings.gateways.map((g) => ({ name: g.name, tokenPrefixes: g.tokenPrefixes })));
    const gateway = await d.gatewayFor(scope.accountId, scope.livemode, route.gateway, settings);
    const paymentId = newId('pay');
    rows.push({
      now,
      payment: {
        id: paymentId,
        account_id: scope.accountId,
        livemode: scope.livemode,
        customer_id: customer?.id ?? null,
        payment_method: input.payment_method,
        amount: input.amount,
        currency: input.currency,
        off_session: input.off_session,
        status: 'processing' as const,
        failure_code: null,
        failure_message: null,
        metadata: JSON.stringify(input.metadata),
        test_clock: testClock,
        idempotency_key: input.idempotencyKey,
        rescue_policy: JSON.stringify(policy),
        sandbox_note: gateway.sandboxNote?.(input.payment_method) ?? null,
        created_at: now,
        updated_at: now,
      },
      firstAttempt: firstAttemptRow({
        id: newId('att'),
        scope,
        paymentId,
        at: now,
        claimedBy: d.workerId,
        leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs),
        card: gateway.describeCard(input.payment_method),
        gateway: route.gateway,
        testClock,
      }),
    });
  }
  const inserted = await insertPaymentRows(d.db, rows);
  const nowOf = new Map(rows.map((r) => [r.firstAttempt.id, r.now]));
  // The first attempts run on what was just written and read: no rescue, hand-off or fallback methods yet.
  const contexts = new Map<string, AttemptContext>(
    inserted.payments.map((payment) => [payment.id, { payment, rescue: null, customer: payment.customer_id ? customers.get(payment.customer_id)! : null, recovery: null, methods: [] }]),
  );
  await runAttempts(d, inserted.attempts, (a) => nowOf.get(a.id)!, { contexts, settings: new Map([[settingsKey(scope.accountId, scope.livemode), settings]]) });
  return getPaymentRecords(d.db, scope, rows.map((r) => r.payment.id));
}

/** Runs the rescue's next retry now instead of at its planned time; it counts against the budget. */
export async function retryNow(d: PaymentDeps, scope: Scope, paymentId: string): Promise<PaymentRecord> {
  const record = await getPaymentRecord(d.db, scope, paymentId);
  if (record.payment.status !== 'requires_rescue' || record.rescue?.status !== 'active') {
    throw notInRescue(paymentId, record.payment.status);
  }
  const now = await nowFor(d, scope, record.payment.test_clock);
  const claimed = await claimPlannedNow(d.db, scope, paymentId, { workerId: d.workerId, leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs), plannedAt: now });
  if (claimed.length === 0) throw nothingToRetry(paymentId, record);
  await runAttempts(d, claimed, () => now, { merchantAsked: true });
  return getPaymentRecord(d.db, scope, paymentId);
}

export async function cancelRescue(d: PaymentDeps, scope: Scope, paymentId: string): Promise<PaymentRecord> {
  const record = await getPaymentRecord(d.db, scope, paymentId);
  const now = await nowFor(d, scope, record.payment.test_clock);
  await d.db.transaction().execute(async (tx) => {
    // Locking the payment row orders us against a worker finishing a retry of the same payment.
    const payment = await tx
      .selectFrom('payments')
      .select(['status'])
      .where('account_id', '=', scope.accountId)
      .where('id', '=', paymentId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (payment.status !== 'requires_rescue') throw notInRescue(paymentId, payment.status);
    const made = record.attempts.filter((a) => a.status === 'succeeded' || a.status === 'failed').length;
    await applyLifecycleIn(tx, cancelRescueChange({ payment: record.payment, attemptsMade: made }, { by: 'merchant' }, now));
  });
  return getPaymentRecord(d.db, scope, paymentId);
}

/** retry_now found no planned retry: say what is true — one running, or Stripe retrying it (observe mode), or none planned. */
function nothingToRetry(paymentId: string, record: PaymentRecord) {
  if (record.attempts.some((a) => a.status === 'processing')) return notInRescue(paymentId, 'rescue_in_progress');
  const meta = record.payment.metadata as Record<string, string>;
  const why = meta.stripe_invoice || meta.stripe_payment_intent
    ? 'Rescue has no retry planned: Stripe retries this payment itself (the Stripe connection is in observe mode, or the rescue was opened in it), and Rescue records what Stripe does.'
    : 'Rescue has no retry planned for it.';
  return new RescueError('payment_not_in_rescue', `Payment ${paymentId} has no retry to run now: ${why}`);
}

function notInRescue(paymentId: string, status: string) {
  const why = status === 'rescue_in_progress' ? 'a retry is running right now' : `its status is ${status}`;
  return new RescueError('payment_not_in_rescue', `Payment ${paymentId} has no rescue waiting for its next retry: ${why}.`);
}

/** A payment on a test clock lives at the clock's frozen time; others at the wall clock. */
export async function nowFor(d: Pick<PaymentDeps, 'db' | 'clock'>, scope: Scope, testClock: string | null): Promise<Date> {
  if (!testClock) return d.clock.now();
  const clock = await getTestClock(d.db, scope.accountId, testClock);
  if (clock.status === 'advancing') {
    throw new RescueError('test_clock_advancing', `Test clock ${testClock} is advancing; try again when its status is ready.`);
  }
  return clock.frozen_time;
}
