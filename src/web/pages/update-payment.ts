import { escapeHtml as e } from '../escape.ts';
import { translator, type MessageKey, type Translate } from '../i18n/translate.ts';

// The hosted update-payment page a customer reaches from a dunning email or the portal widget: plain
// server-rendered HTML, no script, every value escaped, a labelled form that works with a keyboard
// and a screen reader, in the customer's language (web/i18n). Never the raw decline code: `reason`
// is already in plain words (domain/dunning.ts#customerReasonKey).

export interface PaymentSummary {
  merchant: string;
  amount: string;
  reason: string;
  /** Where a customer can write when the page cannot take a card. */
  replyTo: string | null;
  /** The customer's locale (or the account's default): the page's language. */
  locale: string | null;
}

/** Another open payment of the same customer, paid by the same new card (the seed's path). */
export interface OpenPaymentLine {
  id: string;
  amount: string;
  reason: string;
}

export type FormError = { field: 'card_number' | 'exp' | 'cvc'; message: MessageKey };

export interface FormState {
  /** Where the form posts (the page's own URL, signature included). */
  action: string;
  /** Test mode on the sandbox: the page takes Stripe's test card numbers. */
  collect: 'test_cards' | 'contact_merchant';
  error?: FormError | undefined;
  values?: { card_number?: string; exp?: string } | undefined;
  /** Every open payment the new card will pay, when the page pays them all (two or more are listed). */
  openPayments?: readonly OpenPaymentLine[] | undefined;
}

const langOf = (locale: string | null) => (locale ?? 'en').split(/[-_]/)[0]!.toLowerCase();

function shell(title: string, body: string, locale: string | null): string {
  return `<!doctype html>
<html lang="${e(langOf(locale))}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#f6f7f9}
main{background:#fff;border-radius:8px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px rgba(0,0,0,.08);overflow-wrap:anywhere}
h1{font-size:1.4rem;margin:.25rem 0 1rem}.merchant{font-weight:600;color:#444;margin:0}
.amount{font-size:1.6rem;font-weight:700;margin:.25rem 0}label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #888;border-radius:6px}
input:focus,button:focus{outline:3px solid #1a56db;outline-offset:2px}.row{display:flex;gap:1rem}.row>div{flex:1;min-width:0}
button{font:inherit;margin-top:1.25rem;width:100%;padding:.75rem;border:0;border-radius:6px;background:#1a56db;color:#fff;font-weight:600;cursor:pointer}
.hint{color:#555;font-size:.9rem;margin:.25rem 0 0}.error{color:#b42318;font-weight:600}.ok{color:#0a7a3d}
ul.open{list-style:none;padding:0;margin:.5rem 0}ul.open li{display:flex;justify-content:space-between;gap:1rem;border-top:1px solid #e5e7eb;padding:.5rem 0}
ul.open li .what{color:#555;font-size:.9rem}ul.open li .amt{font-weight:600;white-space:nowrap}
@media (max-width:420px){body{margin:1rem auto}main{padding:1.25rem 1rem}}
</style></head>
<body><main>${body}</main></body></html>`;
}

function summary(p: PaymentSummary): string {
  return `<p class="merchant" id="merchant">${e(p.merchant)}</p>
<p class="amount" id="amount">${e(p.amount)}</p>
<p id="reason">${e(p.reason)}</p>`;
}

function openList(t: Translate, lines: readonly OpenPaymentLine[]): string {
  if (lines.length < 2) return '';
  return `<p id="open-payments">${e(t('page.open_payments', { count: lines.length }))}</p>
<ul class="open">${lines.map((l) => `<li data-payment="${e(l.id)}"><span class="what">${e(l.reason)}</span><span class="amt">${e(l.amount)}</span></li>`).join('')}</ul>`;
}

export function updatePaymentForm(p: PaymentSummary, f: FormState): string {
  const t = translator(p.locale);
  const title = `${t('page.title')} · ${p.merchant}`;
  if (f.collect === 'contact_merchant') {
    const text = p.replyTo ? e(t('page.contact_at', { merchant: p.merchant, email: '\u0000' })).replace('\u0000', `<a href="mailto:${e(p.replyTo)}">${e(p.replyTo)}</a>`) : e(t('page.contact', { merchant: p.merchant }));
    return shell(title, `${summary(p)}
<h1>${e(t('page.title'))}</h1>
<p id="contact">${text}</p>`, p.locale);
  }
  const err = (field: string) => (f.error?.field === field ? `<p class="error" id="${field}-error" role="alert">${e(t(f.error.message))}</p>` : '');
  const invalid = (field: string) => (f.error?.field === field ? ` aria-invalid="true" aria-describedby="${field}-error${field === 'card_number' ? ' card_number-hint' : ''}"` : field === 'card_number' ? ' aria-describedby="card_number-hint"' : '');
  const total = f.openPayments && f.openPayments.length > 1 ? null : p.amount;
  return shell(title, `${summary(p)}
${openList(t, f.openPayments ?? [])}
<h1>${e(t('page.title'))}</h1>
<form method="post" action="${e(f.action)}" novalidate>
<label for="card_number">${e(t('page.card_number'))}</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" required value="${e(f.values?.card_number ?? '')}"${invalid('card_number')}>
<p class="hint" id="card_number-hint">${e(t('page.card_hint'))}</p>
${err('card_number')}
<div class="row">
<div><label for="exp">${e(t('page.exp'))}</label>
<input id="exp" name="exp" inputmode="numeric" autocomplete="cc-exp" placeholder="MM/YY" required value="${e(f.values?.exp ?? '')}"${invalid('exp')}>${err('exp')}</div>
<div><label for="cvc">${e(t('page.cvc'))}</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" required${invalid('cvc')}>${err('cvc')}</div>
</div>
<button type="submit" id="submit">${e(total ? t('page.submit', { amount: total }) : t('page.title'))}</button>
</form>`, p.locale);
}

export type ResultKind = 'retry_moved' | 'reopened' | 'saved' | 'already_paid' | 'in_progress' | 'closed';

const RESULT_KEYS: Record<ResultKind, [MessageKey, MessageKey]> = {
  retry_moved: ['result.updated_title', 'result.updated'],
  reopened: ['result.updated_title', 'result.updated'],
  saved: ['result.saved_title', 'result.saved'],
  already_paid: ['result.already_paid_title', 'result.already_paid'],
  in_progress: ['result.in_progress_title', 'result.in_progress'],
  closed: ['result.closed_title', 'result.closed'],
};

export function resultPage(p: PaymentSummary, kind: ResultKind, retryAt: string | null): string {
  const t = translator(p.locale);
  const [titleKey, textKey] = RESULT_KEYS[kind];
  const title = t(titleKey);
  const text = t(textKey, { amount: p.amount, merchant: p.merchant, date: retryAt ?? '—' });
  return shell(`${title} · ${p.merchant}`, `${summary(p)}
<h1 class="ok" id="title" data-outcome="${e(kind)}">${e(title)}</h1>
<p id="result">${e(text)}</p>`, p.locale);
}

/** What a new card did to one of the customer's open payments (engine/customer-new-card.ts). */
export interface ChargedLine {
  id: string;
  amount: string;
  outcome: 'paid' | 'declined' | 'scheduled' | 'untouched';
  /** The decline in plain words, or the retry's date, as the outcome needs. */
  detail: string | null;
}

/** The seed's page after a new card: which of the customer's open payments went through. */
export function chargedPage(p: PaymentSummary, lines: readonly ChargedLine[]): string {
  const t = translator(p.locale);
  const paid = lines.filter((l) => l.outcome === 'paid').length;
  const word = (l: ChargedLine) =>
    l.outcome === 'paid' ? t('result.item_paid') : l.outcome === 'declined' ? t('result.item_declined', { reason: l.detail ?? '' }) : l.outcome === 'scheduled' ? t('result.item_scheduled', { date: l.detail ?? '—' }) : t('result.item_untouched');
  return shell(`${t('result.charged_title')} · ${p.merchant}`, `<p class="merchant" id="merchant">${e(p.merchant)}</p>
<h1 class="ok" id="title" data-outcome="charged" data-paid="${paid}">${e(t('result.charged_title'))}</h1>
<p id="result">${e(t('result.charged_summary', { paid }))}</p>
<ul class="open" id="charged">${lines.map((l) => `<li data-payment="${e(l.id)}" data-outcome="${l.outcome}"><span class="what">${e(word(l))}</span><span class="amt">${e(l.amount)}</span></li>`).join('')}</ul>`, p.locale);
}

export type LinkProblem = 'expired' | 'invalid' | 'unreadable' | 'busy' | 'unavailable';

const PROBLEMS: Record<LinkProblem, { status: number; title: MessageKey; text: MessageKey }> = {
  expired: { status: 410, title: 'problem.expired_title', text: 'problem.expired' },
  invalid: { status: 400, title: 'problem.invalid_title', text: 'problem.invalid' },
  unreadable: { status: 400, title: 'problem.unreadable_title', text: 'problem.unreadable' },
  busy: { status: 409, title: 'problem.busy_title', text: 'problem.busy' },
  unavailable: { status: 503, title: 'problem.unavailable_title', text: 'problem.unavailable' },
};

/**
 * A link that cannot be used: a clear page with its status, never a stack trace. `forbidden` is the
 * seed's path: there an expired or tampered signature is a 403 (the invoice id alone opens nothing).
 */
export function linkProblemPage(problem: LinkProblem, o: { locale?: string | null; forbidden?: boolean } = {}): { status: number; html: string } {
  const p = PROBLEMS[problem];
  const t = translator(o.locale ?? null);
  const status = o.forbidden && (problem === 'expired' || problem === 'invalid') ? 403 : p.status;
  return { status, html: shell(t(p.title), `<h1 class="error" id="title" data-problem="${problem}">${e(t(p.title))}</h1><p id="reason">${e(t(p.text))}</p>`, o.locale ?? null) };
}
