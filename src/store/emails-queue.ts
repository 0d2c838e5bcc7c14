import { sql, type Transaction } from 'kysely';
import { customerReason, customerReasonKey, emailKindForEvent, type ReasonKey, mergeDunning, type DunningSettings, type EmailKind } from '../domain/dunning.ts';
import type { RescuePolicy } from '../domain/auto-rescue-policy.ts';
import { randomString } from '../ids.ts';
import type { Db } from './db.ts';
import type { Database, PlannedRetry } from './schema.ts';

// Dunning emails are queued in the transaction of the state change that causes them — beside the
// event's webhook deliveries (store/events.ts#insertEvents), or beside the replan that leaves one
// retry (store/batch-writes.ts) — so an email exists exactly when its cause does (DESIGN.md
// invariant 3). One row per (payment, kind): `on conflict do nothing` makes a second cause (a
// reconciled attempt, a reopened rescue failing again) a no-op, so no message is queued twice.

type Tx = Transaction<Database> | Db;

export interface EmailCause {
  accountId: string;
  paymentId: string;
  kind: EmailKind;
  /** The account's clock at the cause: the test clock's time for payments on one. */
  at: Date;
  /** Pre-dunning: the card that expires, and when the next payment is expected. */
  expiring?: { last4: string | null; expMonth: number; expYear: number; nextPaymentAt: Date };
}

/** Everything a template needs, fixed when the email is queued (store/emails.ts renders it). */
export interface EmailFacts {
  business_name: string;
  from_name: string | null;
  reply_to: string | null;
  customer_name: string | null;
  amount: number;
  currency: string;
  locale: string | null;
  timezone: string;
  /** What failed, in plain English words (never the decline code). */
  reason: string;
  /** The same as a catalogue message (web/i18n), worded in the customer's language when rendered. */
  reason_key?: ReasonKey;
  /** The next retry Rescue will make, if one is planned (ISO). */
  next_retry_at: string | null;
  /** Where the link points: Rescue's page, the merchant's own page, or Stripe's hosted invoice. */
  link: { type: 'rescue' } | { type: 'merchant'; url: string } | { type: 'stripe'; url: string } | null;
  /** Branding as it was when the email was queued (absent on emails queued before branding existed). */
  logo_url?: string | null;
  brand_color?: string | null;
  /** Pre-dunning (card_expiring): the card on file and the payment it would fail. */
  card?: { last4: string | null; exp_month: number; exp_year: number };
  next_payment_at?: string;
}

/** The causes among events a transaction writes. */
export function causesOfEvents(events: readonly { type: string; data: Record<string, unknown>; accountId: string; livemode: boolean; createdAt: Date; objectId: string | null; quiet?: boolean }[]): EmailCause[] {
  const out: EmailCause[] = [];
  for (const e of events) {
    if (e.quiet) continue;
    const kind = emailKindForEvent(e.type, e.data);
    if (kind && e.objectId) out.push({ accountId: e.accountId, paymentId: e.objectId, kind, at: e.createdAt });
  }
  return out;
}

interface PaymentForEmail {
  account_id: string;
  livemode: boolean;
  id: string;
  amount: string | number;
  currency: string;
  customer_id: string | null;
  test_clock: string | null;
  failure_code: string | null;
  rescue_policy: RescuePolicy | null;
  metadata: Record<string, string>;
  email: string | null;
  name: string | null;
  timezone: string | null;
  locale: string | null;
  business_name: string;
  dunning: Partial<DunningSettings> | null;
  notify_customer: boolean | null;
  schedule: PlannedRetry[] | null;
  next_planned_at: Date | null;
  hosted_invoice_url: string | null;
}

export async function queueEmails(tx: Tx, causes: readonly EmailCause[]): Promise<void> {
  if (causes.length === 0) return;
  const keys = [...new Map(causes.map((c) => [`${c.accountId}|${c.paymentId}`, { a: c.accountId, p: c.paymentId }])).values()];
  const { rows } = await sql<PaymentForEmail>`
    select p.account_id, p.livemode, p.id, p.amount, p.currency, p.customer_id, p.test_clock, p.failure_code, p.rescue_policy, p.metadata,
      c.email, c.name, c.timezone, c.locale, a.business_name, s.dunning, r.notify_customer, r.schedule, si.hosted_invoice_url,
      (select min(t.planned_at) from attempts t where t.account_id = p.account_id and t.payment_id = p.id and t.status = 'planned') as next_planned_at
    from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as v(a text, p text)
    join payments p on p.account_id = v.a and p.id = v.p
    join accounts a on a.id = p.account_id
    left join customers c on c.account_id = p.account_id and c.id = p.customer_id
    left join account_settings s on s.account_id = p.account_id and s.livemode = p.livemode
    left join rescues r on r.account_id = p.account_id and r.payment_id = p.id
    -- By the invoice id in the payment's metadata: the invoice row is written before its payment, whose
    -- events queue this email in the same transaction.
    left join stripe_invoices si on si.account_id = p.account_id and si.livemode = p.livemode and si.invoice_id = p.metadata->>'stripe_invoice'`.execute(tx);
  const byPayment = new Map(rows.map((r) => [`${r.account_id}|${r.id}`, r]));
  const values = causes.flatMap((cause) => {
    const p = byPayment.get(`${cause.accountId}|${cause.paymentId}`);
    if (!p || !p.email) return [];
    const settings = mergeDunning(p.livemode, p.dunning);
    // The payment's own choice (auto_rescue.notify_customer) decides; a payment outside Auto
    // Rescue is not Rescue's to dun.
    const notify = p.notify_customer ?? p.rescue_policy?.notifyCustomer ?? false;
    if (!settings.enabled || !settings.emails[cause.kind] || !notify) return [];
    const facts: EmailFacts = {
      business_name: p.business_name,
      from_name: settings.from_name,
      logo_url: settings.logo_url,
      brand_color: settings.brand_color,
      reply_to: settings.reply_to,
      customer_name: p.name,
      amount: Number(p.amount),
      currency: p.currency,
      // The customer's language, else the account's default (web/i18n/translate.ts).
      locale: p.locale ?? settings.default_locale,
      timezone: p.timezone ?? 'UTC',
      reason: customerReason(p.failure_code),
      reason_key: customerReasonKey(p.failure_code),
      next_retry_at: cause.kind === 'payment_recovered' || cause.kind === 'rescue_failed' ? null : (p.next_planned_at?.toISOString() ?? p.schedule?.[0]?.scheduled_at ?? null),
      link: cause.kind === 'payment_recovered' ? null : cause.kind === 'card_expiring' ? expiringLinkFor(settings) : linkFor(p, settings),
      ...(cause.expiring
        ? { card: { last4: cause.expiring.last4, exp_month: cause.expiring.expMonth, exp_year: cause.expiring.expYear }, next_payment_at: cause.expiring.nextPaymentAt.toISOString() }
        : {}),
    };
    return [
      {
        id: `em_${randomString(24)}`,
        account_id: p.account_id,
        livemode: p.livemode,
        payment_id: p.id,
        customer_id: p.customer_id,
        kind: cause.kind,
        status: 'queued' as const,
        to_address: p.email,
        facts: JSON.stringify(facts),
        test_clock: p.test_clock,
        created_at: cause.at,
        updated_at: cause.at,
      },
    ];
  });
  for (let i = 0; i < values.length; i += 500) {
    await tx
      .insertInto('emails')
      .values(values.slice(i, i + 500))
      .onConflict((oc) => oc.columns(['account_id', 'payment_id', 'kind']).doNothing())
      .execute();
  }
}

/**
 * Before the card expires the payment in hand is paid: only the merchant's own page can take a card
 * for the payments to come (Rescue charges the payment method each payment names, and keeps no card
 * on file for a customer). Without one, the email asks the customer to update it with the merchant.
 */
function expiringLinkFor(s: DunningSettings): EmailFacts['link'] {
  return s.update_payment_url ? { type: 'merchant', url: s.update_payment_url } : null;
}

/**
 * A Stripe invoice's own hosted page when Stripe collects it (Stripe's page takes a new card and
 * pays; a read-only connection could not set one up), else the merchant's page if it has one, else
 * Rescue's.
 */
function linkFor(p: PaymentForEmail, s: DunningSettings): EmailFacts['link'] {
  if (p.metadata?.stripe_invoice && p.hosted_invoice_url) return { type: 'stripe', url: p.hosted_invoice_url };
  if (s.update_payment_url) return { type: 'merchant', url: s.update_payment_url };
  return { type: 'rescue' };
}
