import { RescueError } from '../errors.ts';
import { openPaymentsOf } from '../store/open-payments.ts';
import { getPaymentRecord, type Scope } from '../store/payments.ts';
import { applyNewPaymentMethod } from './dunning-new-card.ts';
import { retryNow, type PaymentDeps } from './payments.ts';

// A customer on the seed's update-payment page (GET /api/update-payment/:invoiceId) gave a new
// card: it pays every payment of theirs still open in a rescue, at once, and says which went
// through. Each payment takes the card through applyNewPaymentMethod (the same transition, limits
// and lock as the token page: engine/dunning-new-card.ts), and the retry that moved up or reopened
// is run now through retryNow, under its own claim — so a double submit finds nothing planned and
// charges nothing twice. Network limits apply to each charge as to any retry.

export type ChargeOutcome = 'paid' | 'declined' | 'scheduled' | 'untouched';

export interface ChargedPayment {
  paymentId: string;
  amount: number;
  currency: string;
  outcome: ChargeOutcome;
  /** A declined retry's code (told to the customer in plain words). */
  failureCode: string | null;
  /** When the retry will run instead, if it could not run now (a retry already running, say). */
  retryAt: Date | null;
}

export async function payOpenPaymentsWithNewCard(d: PaymentDeps, scope: Scope, anchorPaymentId: string, paymentMethod: string): Promise<ChargedPayment[]> {
  const anchor = await getPaymentRecord(d.db, scope, anchorPaymentId);
  const others = anchor.payment.customer_id ? await openPaymentsOf(d.db, scope, anchor.payment.customer_id) : [];
  const ids = [anchorPaymentId, ...others.map((r) => r.payment.id).filter((id) => id !== anchorPaymentId)];
  const out: ChargedPayment[] = [];
  for (const id of ids) out.push(await payOne(d, scope, id, paymentMethod));
  return out;
}

async function payOne(d: PaymentDeps, scope: Scope, paymentId: string, paymentMethod: string): Promise<ChargedPayment> {
  const outcome = await applyNewPaymentMethod(d, scope, paymentId, { paymentMethod, source: 'hosted_page' });
  const before = await getPaymentRecord(d.db, scope, paymentId);
  const base = { paymentId, amount: before.payment.amount, currency: before.payment.currency, failureCode: null, retryAt: null };
  if (outcome.kind === 'already_paid') return { ...base, outcome: 'paid' };
  if (outcome.kind !== 'retry_moved' && outcome.kind !== 'reopened') return { ...base, outcome: 'untouched' };
  try {
    const after = await retryNow(d, scope, paymentId);
    if (after.payment.status === 'succeeded') return { ...base, outcome: 'paid' };
    return { ...base, outcome: 'declined', failureCode: after.payment.failure_code };
  } catch (err) {
    // A retry of this payment is running right now (another tab, a worker): it keeps its moved time.
    if (err instanceof RescueError && err.code === 'payment_not_in_rescue') return { ...base, outcome: 'scheduled', retryAt: outcome.retryAt };
    throw err;
  }
}
