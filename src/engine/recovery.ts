import { resolveRescuePolicy } from '../domain/auto-rescue-policy.ts';
import { classifyDecline } from '../domain/decline-taxonomy.ts';
import type { CardBrand } from '../domain/decline-types.ts';
import { experimentGroup, fixedSchedule } from '../domain/experiment.ts';
import { DEFAULT_GATEWAY, routeToken, type Routing } from '../domain/gateway-routing.ts';
import { checkNetworkRules } from '../domain/network-rules.ts';
import { predictRecovery } from '../domain/recovery-score.ts';
import { windowEnd } from '../domain/rescue.ts';
import { strategyForPaymentMethod } from '../domain/wallets.ts';
import { isUniqueViolation } from '../store/accounts.ts';
import type { Db } from '../store/db.ts';
import { RescueError, missingResource } from '../errors.ts';
import { newId } from '../ids.ts';
import { learnedContexts } from '../predict/planning.ts';
import { loadCardHistory } from '../store/attempts.ts';
import { applyLifecycleIn, claimPlannedNow } from '../store/lifecycle-writes.ts';
import { getCustomer } from '../store/customers.ts';
import type { Scope } from '../store/payments.ts';
import { findRecoveryByIdempotencyKey, getRecoveryRecord, insertHandOff, type RecoveryRecord } from '../store/recoveries.ts';
import type { AttemptRow } from '../store/schema.ts';
import { getSettings, type AccountSettings } from '../store/settings.ts';
import { handOffConsequences } from './cascade.ts';
import { firstAttemptRow } from './first-attempt.ts';
import { nowFor, type PaymentDeps } from './payments.ts';
import { cardRecordOf, runAttempts } from './run-attempts.ts';

// A Revtain hand-off (POST /api/recovery/execute): a payment whose first attempt already failed
// elsewhere. It is recorded (no charge for it) together with its rescue, in one transaction; a decline
// whose strategy is an immediate retry is retried once within the request; the rest runs on the
// Foundation's engine like any rescue.

export interface HandOffMethod {
  token: string;
  type: string;
  /** An explicit gateway name; otherwise routed by the token's shape. */
  gateway: string | null;
}

export interface ExecuteInput {
  primary: HandOffMethod;
  fallbacks: HandOffMethod[];
  amount: number;
  currency: string;
  originalDeclineCode: string | null;
  cardOrigin: string | null;
  idempotencyKey: string | null;
  customer: string | null;
  metadata: Record<string, string>;
}

export type ExecuteOutcome =
  | { kind: 'recovered'; record: RecoveryRecord }
  | { kind: 'queued'; record: RecoveryRecord }
  | { kind: 'blocked'; record: RecoveryRecord }
  | { kind: 'duplicate'; record: RecoveryRecord };

const THIRTY_DAYS_MS = 30 * 86_400_000;

interface DescribedMethod extends HandOffMethod {
  routing: Routing;
  brand: CardBrand;
  last4: string | null;
  fingerprint: string;
  funding: string | null;
  country: string | null;
}

export async function executeRecovery(d: PaymentDeps, scope: Scope, input: ExecuteInput): Promise<ExecuteOutcome> {
  if (input.idempotencyKey) {
    const existing = await findRecoveryByIdempotencyKey(d.db, scope, input.idempotencyKey);
    if (existing) return { kind: 'duplicate', record: await getRecoveryRecord(d.db, scope, existing.id) };
  }
  const settings = await getSettings(d.db, scope.accountId, scope.livemode);
  const customer = input.customer ? await getCustomer(d.db, scope, input.customer, 'customer') : null;
  const now = await nowFor(d, scope, customer?.test_clock ?? null);
  const methods = await describeMethods(d, scope, settings, [input.primary, ...input.fallbacks]);
  const primary = methods[0]!;

  // Auto Rescue always applies to a hand-off: the account's defaults, enabled.
  let policy = resolveRescuePolicy({ enabled: true }, { amount: input.amount, offSession: true, metadata: input.metadata }, settings.autoRescue)!;
  const decline = strategyForPaymentMethod(classifyDecline({ code: input.originalDeclineCode, brand: primary.brand }), primary.type);
  const recoveryId = newId('rec');
  const group = decline.category === 'hard' ? null : experimentGroup(input.idempotencyKey ?? recoveryId, settings.recovery.controlGroupPercent);
  if (group === 'control') policy = { ...policy, schedule: fixedSchedule(policy.maxRetries, policy.retryWindowDays) };
  const primaryBlocked = decline.category !== 'hard' && (await primaryCardBlocked(d, scope, primary, input.originalDeclineCode, now, windowEnd(now, policy.retryWindowDays)));
  const prediction = predictRecovery({ decline, maxRetries: policy.maxRetries, paymentMethodType: primary.type, fallbackTypes: methods.slice(1).map((m) => m.type), primaryBlocked });

  const paymentId = newId('pay');
  const attemptId = newId('att');
  let firstAttempt: AttemptRow;
  try {
    firstAttempt = await d.db.transaction().execute(async (tx) => {
      const rows = await insertHandOff(tx, {
        payment: {
          id: paymentId,
          account_id: scope.accountId,
          livemode: scope.livemode,
          customer_id: customer?.id ?? null,
          payment_method: primary.token,
          amount: input.amount,
          currency: input.currency,
          off_session: true,
          status: 'processing',
          failure_code: null,
          failure_message: null,
          metadata: JSON.stringify(input.metadata),
          test_clock: customer?.test_clock ?? null,
          idempotency_key: null,
          rescue_policy: JSON.stringify(policy),
          created_at: now,
          updated_at: now,
        },
        firstAttempt: firstAttemptRow({
          id: attemptId,
          scope,
          paymentId,
          at: now,
          claimedBy: d.workerId,
          leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs),
          card: primary,
          gateway: primary.routing.gateway,
          testClock: customer?.test_clock ?? null,
          paymentMethodType: primary.type,
        }),
        recovery: {
          id: recoveryId,
          account_id: scope.accountId,
          livemode: scope.livemode,
          payment_id: paymentId,
          idempotency_key: input.idempotencyKey,
          original_decline_code: input.originalDeclineCode ?? decline.code,
          card_origin: input.cardOrigin,
          payment_method_type: primary.type,
          experiment_group: group,
          predicted_recovery: prediction.probability,
          prediction_reasoning: prediction.reasoning,
          created_at: now,
        },
        methods: methods.map((m, position) => ({
          account_id: scope.accountId,
          payment_id: paymentId,
          position,
          token: m.token,
          gateway: m.routing.gateway,
          type: m.type,
          brand: m.brand,
          last4: m.last4,
          fingerprint: m.fingerprint,
        })),
      });
      const ctx = { payment: rows.payment, rescue: null, customer, recovery: rows.recovery, methods: rows.methods };
      // The first schedule plans like a payment's (run-attempts.ts): the learned model when the account uses it.
      const learned = await learnedContexts(tx as unknown as Db, [{ attempt: rows.attempt, ctx, paymentMethod: primary.token }]);
      await applyLifecycleIn(tx, { outcomes: [handOffConsequences({ attempt: rows.attempt, ctx, at: now, decline, policy, primaryBlocked, learned: learned.get(rows.attempt.id) })] });
      return rows.attempt;
    });
  } catch (err) {
    // The same idempotencyKey arrived twice at once: the other request's hand-off is the answer.
    if (input.idempotencyKey && isUniqueViolation(err)) {
      const existing = await findRecoveryByIdempotencyKey(d.db, scope, input.idempotencyKey);
      if (existing) return { kind: 'duplicate', record: await getRecoveryRecord(d.db, scope, existing.id) };
    }
    throw err;
  }

  // "A decline whose strategy is an immediate retry" (issuer outage, network or gateway error): one
  // retry now, inside the request; it counts against the budget. The control group waits for its
  // fixed schedule like any other decline.
  if (decline.strategy === 'immediate' && group !== 'control' && !primaryBlocked) await retryInRequest(d, scope, firstAttempt.payment_id, now);

  const record = await getRecoveryRecord(d.db, scope, recoveryId);
  const { payment, rescue } = record.record;
  if (payment.status === 'succeeded') return { kind: 'recovered', record };
  if (rescue?.status === 'active') return { kind: 'queued', record };
  return { kind: 'blocked', record };
}

/** Routes each token to its gateway and asks that gateway what card it is. */
async function describeMethods(d: PaymentDeps, scope: Scope, settings: AccountSettings, methods: HandOffMethod[]): Promise<DescribedMethod[]> {
  const routes = settings.gateways.map((g) => ({ name: g.name, tokenPrefixes: g.tokenPrefixes }));
  const out: DescribedMethod[] = [];
  for (const [i, m] of methods.entries()) {
    const param = i === 0 ? 'gateway' : `fallbackPaymentMethodTokens[${i - 1}][gateway]`;
    if (m.gateway && m.gateway !== DEFAULT_GATEWAY && !settings.gateways.some((g) => g.name === m.gateway)) throw missingResource('gateway', m.gateway, param);
    const routing = routeToken(m.token, m.gateway, routes);
    const gateway = await d.gatewayFor(scope.accountId, scope.livemode, routing.gateway);
    const card = gateway.describeCard(m.token);
    const same = out.findIndex((o) => o.fingerprint === card.fingerprint && o.routing.gateway === routing.gateway);
    if (same >= 0) {
      const name = i === 0 ? 'paymentMethodToken' : `fallbackPaymentMethodTokens[${i - 1}]`;
      const other = same === 0 ? 'paymentMethodToken' : `fallbackPaymentMethodTokens[${same - 1}]`;
      throw new RescueError('parameter_invalid', `${name} is the same card as ${other}; each fallback must be a different payment method.`, name);
    }
    out.push({ ...m, routing, brand: card.brand, last4: card.last4, fingerprint: card.fingerprint, funding: card.funding, country: card.country });
  }
  return out;
}

/**
 * Whether a card network rule forbids any retry of the primary card before its window ends, counting
 * the decline being handed over (it happened on this card, at this merchant).
 */
async function primaryCardBlocked(d: PaymentDeps, scope: Scope, primary: DescribedMethod, declineCode: string | null, at: Date, windowEndsAt: Date): Promise<boolean> {
  const rows = await loadCardHistory(d.db, [{ accountId: scope.accountId, fingerprint: primary.fingerprint }], new Date(at.getTime() - THIRTY_DAYS_MS));
  const history = rows.map(cardRecordOf);
  history.push(cardRecordOf({ account_id: scope.accountId, card_fingerprint: primary.fingerprint, attempted_at: at, status: 'failed', decline_code: declineCode, advice_code: null, card_brand: primary.brand, number: 1 }));
  const verdict = checkNetworkRules({ brand: primary.brand, history, at });
  if (verdict.allowed) return false;
  return verdict.retryAfter === null || verdict.retryAfter.getTime() > windowEndsAt.getTime();
}

/** The rescue's first planned retry, run now (as retry_now does). */
async function retryInRequest(d: PaymentDeps, scope: Scope, paymentId: string, now: Date): Promise<void> {
  const claimed = await claimPlannedNow(d.db, scope, paymentId, { workerId: d.workerId, leaseUntil: new Date(d.clock.now().getTime() + d.leaseMs), plannedAt: now, position: 0 });
  if (claimed.length > 0) await runAttempts(d, claimed, () => now);
}
