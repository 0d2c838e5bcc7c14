import { sql } from 'kysely';
import type { Db } from '../store/db.ts';
import { sandboxAccountUpdater, sandboxCardDetails, sandboxCharge } from './sandbox/network.ts';
import { sandboxTokenNote } from './sandbox/token-note.ts';
import type { CardDetails, ChargeRequest, ChargeResult, Gateway } from './gateway.ts';

// The built-in simulated card network. Its decisions are a pure function of the token and the
// attempt (sandbox/network.ts); its ledger lives in the database like a real network's would, so a
// repeated idempotency key gets the first answer back and a charge is recorded at most once.
export function sandboxGateway(db: Db): Gateway {
  return {
    type: 'sandbox',
    async charge(requests) {
      if (requests.length === 0) return [];
      const fresh = requests.map((r) => ({ request: r, result: decide(r) }));
      const rows = fresh.map(({ request, result }) => ({
        account_id: request.accountId,
        idempotency_key: request.idempotencyKey,
        payment_method: request.paymentMethod,
        amount: request.payment.amount,
        outcome: JSON.stringify(result),
        created_at: request.attemptedAt,
      }));
      for (let i = 0; i < rows.length; i += 500) {
        await db.insertInto('sandbox_charges').values(rows.slice(i, i + 500)).onConflict((oc) => oc.doNothing()).execute();
      }
      // Read back what the ledger holds: for a repeated key that is the first call's answer.
      const stored = await sql<{ account_id: string; idempotency_key: string; outcome: ChargeResult }>`
        select s.account_id, s.idempotency_key, s.outcome from sandbox_charges s
        join jsonb_to_recordset(${JSON.stringify(requests.map((r) => ({ a: r.accountId, k: r.idempotencyKey })))}::jsonb) as v(a text, k text)
          on s.account_id = v.a and s.idempotency_key = v.k`.execute(db);
      const byKey = new Map(stored.rows.map((r) => [`${r.account_id}|${r.idempotency_key}`, r.outcome]));
      return requests.map((r, i) => byKey.get(`${r.accountId}|${r.idempotencyKey}`) ?? fresh[i]!.result);
    },
    describeCard(paymentMethod): CardDetails {
      const d = sandboxCardDetails(paymentMethod);
      return { brand: d.brand, funding: d.funding, country: d.country, last4: d.last4, expMonth: d.expMonth, expYear: d.expYear, fingerprint: d.fingerprint };
    },
    sandboxNote: sandboxTokenNote,
    accountUpdater(paymentMethod, at) {
      const u = sandboxAccountUpdater(paymentMethod, at);
      return u.updated && u.newToken ? u.newToken : null;
    },
  };
}

function decide(r: ChargeRequest): ChargeResult {
  const outcome = sandboxCharge({
    token: r.paymentMethod,
    amount: r.payment.amount,
    currency: r.payment.currency,
    at: r.attemptedAt,
    attemptKey: r.idempotencyKey,
    firstFailureAt: r.firstFailureAt,
    retryNumber: r.retryNumber,
  });
  if (outcome.status === 'succeeded') return { status: 'succeeded', transactionId: `txn_sbx_${r.attemptId.slice(4)}` };
  return { status: 'failed', declineCode: outcome.declineCode, message: outcome.message, adviceCode: outcome.adviceCode ?? null };
}
