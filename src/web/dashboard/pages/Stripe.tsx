import { useEffect, useState } from 'react';
import { del, get, post, type Mode } from '../api.ts';
import { Badge, ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { dateTime, humanize } from '../format.ts';
import type { StripeConnection } from '../types.ts';

type StripeMode = 'observe' | 'active';

// The two sentences the issue asks for: two retry engines must never fight over one invoice.
export const ADVICE: Record<StripeMode, string> = {
  observe: "Stripe's Smart Retries keep running — keep them on, or switch Rescue to active and turn them off.",
  active: "Turn Smart Retries off in Stripe (Billing → Revenue recovery → Retries) so two retry engines never fight.",
};

const POLL_MS = 2000;

export function Stripe({ mode }: { mode: Mode }) {
  const { data: conn, error, loading, reload } = useLoad(() => get<StripeConnection>('/v2/stripe/connection'), []);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [confirmDisconnect, setConfirmDisconnect] = useState(false);
  const importing = conn?.status === 'connected' && conn.backfill.some((b) => b.status === 'pending' || b.status === 'running');

  // While the import runs, its progress is read again every few seconds.
  useEffect(() => {
    if (!importing) return;
    const t = setTimeout(reload, POLL_MS);
    return () => clearTimeout(t);
  }, [importing, conn, reload]);

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
      reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const connect = (m: StripeMode) =>
    run(async () => {
      const link = await post<{ url: string }>('/v2/stripe/connect_links', { mode: m });
      window.location.assign(link.url);
    });

  if (error) return <ErrorNote error={error} />;
  if (loading && !conn) return <Loading />;
  if (!conn) return null;
  // needs_attention still works (Stripe refused one lookup): the merchant fixes the key, nothing reconnects.
  const connected = conn.status === 'connected' || conn.status === 'needs_attention';

  return (
    <>
      <h1>Stripe</h1>
      <ErrorNote error={actionError} />
      <Section title="Connection">
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="stripe-status">
            <Badge status={conn.status} />
          </dd>
          {connected && (
            <>
              <dt>Stripe account</dt>
              <dd>
                <code data-testid="stripe-account">{conn.stripe_account ?? 'your own account (restricted key)'}</code>
              </dd>
              <dt>Connected with</dt>
              <dd>{conn.kind === 'oauth' ? `Stripe Connect (${conn.scope ?? 'scope unknown'})` : 'a restricted key'}</dd>
              <dt>Connected</dt>
              <dd>{dateTime(conn.connected_at)}</dd>
            </>
          )}
          <dt>Rescue mode</dt>
          <dd>{mode === 'live' ? 'live' : 'test'}</dd>
        </dl>
        {conn.status !== 'connected' && conn.notice && (
          <p className="error" role="alert" data-testid="stripe-notice">
            {conn.notice}
          </p>
        )}
        {!connected ? (
          <ConnectForm busy={busy} onConnect={connect} />
        ) : !confirmDisconnect ? (
          <button type="button" className="danger" disabled={busy} onClick={() => setConfirmDisconnect(true)}>
            Disconnect
          </button>
        ) : (
          <span className="confirm" role="group" aria-label="Confirm disconnect">
            Disconnect Stripe? Rescue revokes its access and forgets every token.{' '}
            <button type="button" className="danger" disabled={busy} onClick={() => run(async () => (await del('/v2/stripe/connection'), setConfirmDisconnect(false)))}>
              Yes, disconnect
            </button>{' '}
            <button type="button" disabled={busy} onClick={() => setConfirmDisconnect(false)}>
              Keep connected
            </button>
          </span>
        )}
      </Section>

      {connected && conn.mode && (
        <Section title="Retries">
          <fieldset className="choice">
            <legend>Who retries failed invoices</legend>
            <label>
              <input type="radio" name="stripe-mode" value="observe" checked={conn.mode === 'observe'} disabled={busy} onChange={() => run(() => post('/v2/stripe/connection', { mode: 'observe' }))} />
              Observe: Rescue watches and predicts; Stripe retries
            </label>
            <label>
              <input type="radio" name="stripe-mode" value="active" checked={conn.mode === 'active'} disabled={busy} onChange={() => run(() => post('/v2/stripe/connection', { mode: 'active' }))} />
              Active: Rescue retries failed invoices itself
            </label>
          </fieldset>
          {conn.kind === 'oauth' && conn.scope !== 'read_write' && (
            <p className="muted">
              This connection is read-only. Active mode needs write access:{' '}
              <button type="button" className="link" disabled={busy} onClick={() => connect('active')}>
                reconnect with write access
              </button>
              .
            </p>
          )}
          <p className={`advice advice-${conn.mode}`} role="note" data-testid="smart-retries-advice">
            {ADVICE[conn.mode]}
          </p>
          {conn.customer_emails && (
            <p className="advice" role="note" data-testid="customer-emails-advice">
              {conn.customer_emails.advice}{' '}
              <a href={conn.customer_emails.settings_url} target="_blank" rel="noopener noreferrer">
                Open Stripe's email settings
              </a>
            </p>
          )}
        </Section>
      )}

      {conn.handback.not_handed_back.length > 0 && (
        <Section title="Invoices to hand back to Stripe yourself">
          <p className="muted">
            Rescue turned automatic collection off for these invoices while it retried them, and could not turn it back on. In Stripe, open each invoice and turn
            automatic collection (auto_advance) back on so that Stripe's retries and dunning resume.
          </p>
          <table data-testid="not-handed-back">
            <thead>
              <tr>
                <th>Invoice</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {conn.handback.not_handed_back.map((h) => (
                <tr key={h.invoice}>
                  <td>
                    <code>{h.invoice}</code>
                  </td>
                  <td>{h.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}

      {conn.backfill.length > 0 && (
        <Section title="Import of the last 12 months">
          <Backfill rows={conn.backfill} />
        </Section>
      )}
    </>
  );
}

function ConnectForm({ busy, onConnect }: { busy: boolean; onConnect: (m: StripeMode) => void }) {
  const [m, setM] = useState<StripeMode>('observe');
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onConnect(m);
      }}
    >
      <fieldset className="choice">
        <legend>Connect in</legend>
        <label>
          <input type="radio" name="connect-mode" checked={m === 'observe'} onChange={() => setM('observe')} />
          Observe mode (read-only: Stripe keeps retrying)
        </label>
        <label>
          <input type="radio" name="connect-mode" checked={m === 'active'} onChange={() => setM('active')} />
          Active mode (read and write: Rescue retries)
        </label>
      </fieldset>
      <button type="submit" disabled={busy}>
        Connect Stripe
      </button>
    </form>
  );
}

function Backfill({ rows }: { rows: StripeConnection['backfill'] }) {
  return (
    <table aria-label="Import progress">
      <thead>
        <tr>
          <th scope="col">Objects</th>
          <th scope="col">Progress</th>
          <th scope="col" className="num">Imported</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((b) => (
          <tr key={b.object} data-object={b.object} data-status={b.status}>
            <th scope="row">{humanize(b.object)}</th>
            <td>
              {/* Stripe does not say how many there are, so a running import has no percentage. */}
              {b.status === 'done' ? (
                <progress max={1} value={1} aria-label={`${b.object} import`} />
              ) : b.status === 'failed' ? (
                <progress max={1} value={0} aria-label={`${b.object} import`} />
              ) : (
                <progress aria-label={`${b.object} import`} />
              )}
            </td>
            <td className="num" data-field="imported">
              {b.imported.toLocaleString()}
            </td>
            <td>
              <Badge status={b.status} /> <span className="muted small">since {dateTime(b.since)}</span>
              {b.finished_at && <span className="muted small"> · finished {dateTime(b.finished_at)}</span>}
              {b.last_error && <span className="error small"> · {b.last_error}</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
