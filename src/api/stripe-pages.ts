// The pages a merchant's browser sees around Stripe Connect OAuth: one for success, one for each
// way it can fail. Plain HTML, no script, everything escaped; never a bare 500.

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string, tone: 'ok' | 'error'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Rescue</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.5rem;color:${tone === 'ok' ? '#0a7a3d' : '#b42318'}}code{background:#f2f2f2;padding:0 .25rem}
.note{background:#fff8e6;border-left:4px solid #f5a623;padding:.5rem 1rem}</style></head>
<body><main><h1 id="title">${escape(title)}</h1>${body}</main></body></html>`;
}

export function connectedPage(o: { stripeAccountId: string; mode: 'observe' | 'active'; livemode: boolean; scope: string | null }): string {
  const modeText =
    o.mode === 'observe'
      ? `<p>Mode: <strong>observe</strong> (read-only). Rescue never moves funds: Stripe's own retries keep running, so keep Smart Retries on (or replace them by switching Rescue to active mode).</p>`
      : `<p>Mode: <strong>active</strong>. Rescue retries failed invoices itself and sets <code>auto_advance: false</code> on the invoices it takes over, so Stripe's automatic retries do not run for them. <span class="note">Turn Smart Retries off in Stripe (Billing → Revenue recovery → Retries) so two retry engines never fight over other invoices.</span></p>`;
  return page(
    'Stripe connected',
    `<p>Rescue is connected to Stripe account <code id="stripe-account">${escape(o.stripeAccountId)}</code> (${o.livemode ? 'live' : 'test'} mode, scope <code>${escape(o.scope ?? 'unknown')}</code>).</p>
${modeText}
<p>Rescue is importing the last 12 months of invoices, charges and subscriptions; progress is at <code>GET /v2/stripe/connection</code> and on the dashboard.</p>
<p><a id="dashboard-link" href="/dashboard/stripe">Back to the dashboard's Stripe page</a></p>`,
    'ok',
  );
}

export type ConnectFailure = 'denied' | 'invalid_code' | 'bad_state' | 'expired_link' | 'mode_mismatch' | 'account_in_use' | 'not_configured' | 'stripe_unavailable' | 'missing_permissions';

const FAILURES: Record<ConnectFailure, { status: number; title: string; text: string }> = {
  denied: { status: 200, title: 'Stripe was not connected', text: 'You declined the connection in Stripe, so nothing was connected and nothing changed. Start again from Rescue whenever you like.' },
  invalid_code: { status: 400, title: 'Stripe did not accept this connection', text: 'The authorization code from Stripe is invalid or was already used. Start the connection again from Rescue.' },
  bad_state: { status: 400, title: 'This connection link is not valid', text: 'The request did not come from a connection you started in Rescue (or it was started in another browser). Nothing was connected. Start again from Rescue.' },
  expired_link: { status: 400, title: 'This connection link has expired', text: 'Connection links work for a few minutes. Create a new one from Rescue and open it right away.' },
  mode_mismatch: { status: 400, title: 'Test and live mode do not match', text: "The Stripe account was connected in a different mode (test or live) from the Rescue key that started the connection. Use a key of the matching mode." },
  account_in_use: { status: 409, title: 'This Stripe account is already connected', text: 'Another Rescue account is connected to this Stripe account. Disconnect it there first.' },
  not_configured: { status: 400, title: 'Stripe is not set up on this Rescue', text: 'The operator of this Rescue has not configured Stripe Connect (RESCUE_STRIPE_CLIENT_ID, RESCUE_STRIPE_SECRET_KEY, RESCUE_ENCRYPTION_KEY).' },
  missing_permissions: { status: 400, title: 'Stripe did not grant what Rescue needs', text: 'The connection cannot read or write what this mode needs, so Rescue did not keep it (and revoked it in Stripe). Connect again, granting the access Stripe asks for.' },
  stripe_unavailable: { status: 502, title: 'Stripe could not be reached', text: 'Rescue could not finish the connection because Stripe did not answer. Nothing was connected. Try again in a minute.' },
};

export function failurePage(kind: ConnectFailure, detail?: string | null): { status: number; html: string } {
  const f = FAILURES[kind];
  return { status: f.status, html: page(f.title, `<p id="reason" data-reason="${kind}">${escape(f.text)}</p>${detail ? `<p>Stripe said: <em>${escape(detail)}</em></p>` : ''}<p><a id="dashboard-link" href="/dashboard/stripe">Back to the dashboard</a></p>`, 'error') };
}
