import { escapeHtml as e } from '../escape.ts';

// The hosted update-payment page a customer reaches from a dunning email: plain server-rendered
// HTML, no script, every value escaped, a labelled form that works with a keyboard and a screen
// reader. Never the raw decline code: `reason` is already in plain words (domain/dunning.ts).

export interface PaymentSummary {
  merchant: string;
  amount: string;
  reason: string;
  /** Where a customer can write when the page cannot take a card. */
  replyTo: string | null;
}

export interface FormState {
  token: string;
  /** Test mode on the sandbox: the page takes Stripe's test card numbers. */
  collect: 'test_cards' | 'contact_merchant';
  error?: { field: 'card_number' | 'exp' | 'cvc'; message: string } | undefined;
  values?: { card_number?: string; exp?: string } | undefined;
}

function shell(title: string, body: string, lang = 'en'): string {
  return `<!doctype html>
<html lang="${e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#f6f7f9}
main{background:#fff;border-radius:8px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin:.25rem 0 1rem}.merchant{font-weight:600;color:#444;margin:0}
.amount{font-size:1.6rem;font-weight:700;margin:.25rem 0}label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{font:inherit;width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #888;border-radius:6px}
input:focus,button:focus{outline:3px solid #1a56db;outline-offset:2px}.row{display:flex;gap:1rem}.row>div{flex:1}
button{font:inherit;margin-top:1.25rem;width:100%;padding:.75rem;border:0;border-radius:6px;background:#1a56db;color:#fff;font-weight:600;cursor:pointer}
.hint{color:#555;font-size:.9rem;margin:.25rem 0 0}.error{color:#b42318;font-weight:600}.ok{color:#0a7a3d}
</style></head>
<body><main>${body}</main></body></html>`;
}

function summary(p: PaymentSummary): string {
  return `<p class="merchant" id="merchant">${e(p.merchant)}</p>
<p class="amount" id="amount">${e(p.amount)}</p>
<p id="reason">${e(p.reason)}</p>`;
}

export function updatePaymentForm(p: PaymentSummary, f: FormState): string {
  if (f.collect === 'contact_merchant') {
    const contact = p.replyTo ? ` at <a href="mailto:${e(p.replyTo)}">${e(p.replyTo)}</a>` : '';
    return shell(`Update your payment method · ${p.merchant}`, `${summary(p)}
<h1>Update your payment method</h1>
<p id="contact">Please contact ${e(p.merchant)}${contact} to update your payment method.</p>`);
  }
  const err = (field: string) => (f.error?.field === field ? `<p class="error" id="${field}-error" role="alert">${e(f.error.message)}</p>` : '');
  const invalid = (field: string) => (f.error?.field === field ? ` aria-invalid="true" aria-describedby="${field}-error${field === 'card_number' ? ' card_number-hint' : ''}"` : field === 'card_number' ? ' aria-describedby="card_number-hint"' : '');
  return shell(`Update your payment method · ${p.merchant}`, `${summary(p)}
<h1>Update your payment method</h1>
<form method="post" action="/update-payment/${e(f.token)}" novalidate>
<label for="card_number">Card number</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" required value="${e(f.values?.card_number ?? '')}"${invalid('card_number')}>
<p class="hint" id="card_number-hint">Test mode: use a test card such as 4242 4242 4242 4242.</p>
${err('card_number')}
<div class="row">
<div><label for="exp">Expiry (MM/YY)</label>
<input id="exp" name="exp" inputmode="numeric" autocomplete="cc-exp" placeholder="MM/YY" required value="${e(f.values?.exp ?? '')}"${invalid('exp')}>${err('exp')}</div>
<div><label for="cvc">Security code</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" required${invalid('cvc')}>${err('cvc')}</div>
</div>
<button type="submit" id="submit">Save card and pay ${e(p.amount)}</button>
</form>`);
}

export type ResultKind = 'retry_moved' | 'reopened' | 'saved' | 'already_paid' | 'in_progress' | 'closed';

export function resultPage(p: PaymentSummary, kind: ResultKind, retryAt: string | null): string {
  const texts: Record<ResultKind, { title: string; text: string }> = {
    retry_moved: { title: 'Thank you — your card is updated', text: `We'll charge your new card for ${p.amount} on ${retryAt ?? 'shortly'}. You'll receive a receipt by email.` },
    reopened: { title: 'Thank you — your card is updated', text: `We'll charge your new card for ${p.amount} on ${retryAt ?? 'shortly'}. You'll receive a receipt by email.` },
    saved: { title: 'Your card is saved', text: `${p.merchant} will use it from now on. For this payment, please contact ${p.merchant}.` },
    already_paid: { title: 'This payment is already paid', text: 'Nothing more is needed from you. Thank you!' },
    in_progress: { title: 'A payment attempt is under way', text: 'We are charging your card right now. Check your email in a few minutes; there is nothing to do meanwhile.' },
    closed: { title: 'This payment no longer needs an update', text: `Please contact ${p.merchant} if you have questions about it.` },
  };
  const t = texts[kind];
  return shell(`${t.title} · ${p.merchant}`, `${summary(p)}
<h1 class="ok" id="title" data-outcome="${e(kind)}">${e(t.title)}</h1>
<p id="result">${e(t.text)}</p>`);
}

export type LinkProblem = 'expired' | 'invalid' | 'unreadable' | 'busy' | 'unavailable';

/** A link that cannot be used: a clear page with its status, never a stack trace. */
export function linkProblemPage(problem: LinkProblem): { status: number; html: string } {
  const pages: Record<LinkProblem, { status: number; title: string; text: string }> = {
    expired: { status: 410, title: 'This link has expired', text: 'Links to update a payment method work for a limited time. Use the link in the most recent email you received, or contact the merchant for a new one.' },
    invalid: { status: 400, title: 'This link is not valid', text: 'The link may have been copied incompletely. Open it again from the email you received, or contact the merchant.' },
    unreadable: { status: 400, title: 'The form could not be read', text: 'Nothing was charged. Go back to the form, check what you typed, and send it again.' },
    busy: { status: 409, title: 'Please try again in a moment', text: 'This payment is being updated right now. Reload the page in a few seconds.' },
    unavailable: { status: 503, title: 'Something went wrong on our side', text: 'Nothing was charged. Please try again in a few minutes.' },
  };
  const p = pages[problem];
  return { status: p.status, html: shell(p.title, `<h1 class="error" id="title" data-problem="${problem}">${e(p.title)}</h1><p id="reason">${e(p.text)}</p>`) };
}
