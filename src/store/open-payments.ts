import type { Db } from './db.ts';
import { getPaymentRecords, type PaymentRecord, type Scope } from './payments.ts';

// A customer's payments still open in a rescue: waiting for a retry, a retry running, or failed
// after their rescue (a new card reopens one retry). What the portal widget lists and what one new
// card on the update-payment page pays. Payments outside Auto Rescue are not Rescue's to collect.

export const OPEN_STATUSES = ['requires_rescue', 'rescue_in_progress', 'failed'] as const;

export async function openPaymentsOf(db: Db, scope: Scope, customerId: string): Promise<PaymentRecord[]> {
  const rows = await db
    .selectFrom('payments')
    .select('id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', scope.livemode)
    .where('customer_id', '=', customerId)
    .where('status', 'in', [...OPEN_STATUSES])
    .where('rescue_policy', 'is not', null)
    .orderBy('seq')
    .limit(50)
    .execute();
  return getPaymentRecords(db, scope, rows.map((r) => r.id));
}
