import { escapeHtml as e } from '../escape.ts';
import { translator } from '../i18n/translate.ts';

// The customer-portal widget (GET /api/widget/insights), framed in the merchant's portal: the
// customer's open payments and one-click recovery. Server-rendered, no script, every value escaped,
// in the customer's language, fluid down to a phone's width, in the merchant's colour and logo.

export interface WidgetLine {
  id: string;
  amount: string;
  reason: string;
  nextRetry: string | null;
  canRetryNow: boolean;
  cardLast4: string | null;
  updateUrl: string;
  /** The result of a click on this payment's retry just now. */
  result?: { outcome: 'paid' | 'declined'; reason: string | null } | undefined;
}

export interface WidgetView {
  merchant: string;
  accentColor: string | null;
  logoUrl: string | null;
  locale: string | null;
  token: string;
  lines: readonly WidgetLine[];
}

function line(v: WidgetView, l: WidgetLine): string {
  const t = translator(v.locale);
  const result = l.result
    ? `<p class="result ${l.result.outcome}" role="status" data-outcome="${l.result.outcome}">${e(l.result.outcome === 'paid' ? t('widget.paid') : t('widget.declined', { reason: l.result.reason ?? '' }))}</p>`
    : '';
  const retry = l.canRetryNow
    ? `<form method="post" action="/api/widget/insights/retry"><input type="hidden" name="token" value="${e(v.token)}"><input type="hidden" name="payment" value="${e(l.id)}">
<button type="submit" class="primary" data-action="retry">${e(l.cardLast4 ? t('widget.retry_now', { last4: l.cardLast4 }) : t('widget.retry_now_card'))}</button></form>`
    : '';
  const paid = l.result?.outcome === 'paid';
  return `<li class="payment" data-payment="${e(l.id)}">
<div class="head"><span class="amount">${e(l.amount)}</span></div>
${paid ? '' : `<p class="reason">${e(l.reason)}</p>`}
${!paid && l.nextRetry ? `<p class="next">${e(t('widget.next_retry', { date: l.nextRetry }))}</p>` : ''}
${result}
${paid ? '' : `<div class="actions">${retry}<a class="secondary" data-action="update" href="${e(l.updateUrl)}" target="_blank" rel="noopener noreferrer">${e(t('widget.update_card'))}</a></div>`}
</li>`;
}

export function widgetPage(v: WidgetView): string {
  const t = translator(v.locale);
  const accent = v.accentColor ?? '#1a56db';
  const lang = (v.locale ?? 'en').split(/[-_]/)[0]!.toLowerCase();
  const body = v.lines.length
    ? `<ul class="payments">${v.lines.map((l) => line(v, l)).join('\n')}</ul>`
    : `<p class="none" id="none">${e(t('widget.none'))}</p>`;
  return `<!doctype html>
<html lang="${e(lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(t('widget.title'))} · ${e(v.merchant)}</title>
<style>
:root{--accent:${e(accent)}}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;padding:12px;color:#1a1a1a;background:transparent;overflow-wrap:anywhere}
header{display:flex;align-items:center;gap:10px;margin-bottom:8px}header img{max-height:32px;max-width:120px}
h1{font-size:1.1rem;margin:0}.merchant{color:#555;font-size:.9rem;margin:0}
ul.payments{list-style:none;margin:0;padding:0;display:grid;gap:10px}
li.payment{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
.amount{font-size:1.25rem;font-weight:700}.reason{margin:.25rem 0}.next{color:#555;font-size:.9rem;margin:.25rem 0}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}.actions form{margin:0;flex:1 1 12rem}
button.primary,a.secondary{display:block;width:100%;font:inherit;font-weight:600;text-align:center;padding:.6rem .8rem;border-radius:6px;cursor:pointer;text-decoration:none}
button.primary{border:0;background:var(--accent);color:#fff}a.secondary{flex:1 1 10rem;border:1px solid var(--accent);color:var(--accent);background:#fff}
button:focus,a:focus{outline:3px solid #1a1a1a;outline-offset:2px}
.result{font-weight:600;margin:.5rem 0}.result.paid{color:#0a7a3d}.result.declined{color:#b42318}.none{color:#0a7a3d;font-weight:600}
</style></head>
<body>
<header>${v.logoUrl ? `<img src="${e(v.logoUrl)}" alt="${e(v.merchant)}">` : ''}<div><h1>${e(t('widget.title'))}</h1><p class="merchant" id="merchant">${e(v.merchant)}</p></div></header>
${body}
</body></html>`;
}

/** Unsigned, tampered, expired or unknown: one page that says nothing about why. */
export function widgetRefusedPage(): string {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unavailable</title></head><body><p id="refused">This content is unavailable.</p></body></html>';
}
