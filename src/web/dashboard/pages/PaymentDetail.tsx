import { useState } from 'react';
import { get, post } from '../api.ts';
import { Badge, ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { CustomerName } from '../customer-name.tsx';
import { cardLabel, dateTime, humanize, money, probability } from '../format.ts';
import { PaymentEmails } from '../payment-emails.tsx';
import { Link } from '../router.tsx';
import type { Payment } from '../types.ts';

interface TimelineRow {
  key: string;
  label: string;
  kind: 'attempted' | 'planned';
  at: string;
  outcome: string;
  declineCode: string | null;
  predictedP: number | null;
  reason: string | null;
}

/** Attempts made (oldest first), then the retries still planned. */
function timeline(p: Payment): TimelineRow[] {
  const done: TimelineRow[] = p.rescue_history.map((h) => ({
    key: `a${h.attempt}`,
    label: h.attempt === 1 ? 'First attempt' : `Retry ${h.attempt - 1}`,
    kind: 'attempted',
    at: h.attempted_at,
    outcome: h.result,
    declineCode: h.failure_code ?? null,
    predictedP: null,
    reason: null,
  }));
  const planned: TimelineRow[] = (p.rescue_schedule?.scheduled_retries ?? []).map((r) => ({
    key: `p${r.retry_number}`,
    label: `Retry ${r.retry_number}`,
    kind: 'planned',
    at: r.scheduled_at,
    outcome: 'planned',
    declineCode: null,
    predictedP: r.predicted_p ?? null,
    reason: r.reason ?? null,
  }));
  return [...done, ...planned];
}

export function PaymentDetail({ id }: { id: string }) {
  const { data: p, error, loading, reload } = useLoad(() => get<Payment>(`/v2/payments/${encodeURIComponent(id)}`), [id]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  if (error) return <ErrorNote error={error} />;
  if (loading && !p) return <Loading />;
  if (!p) return null;

  const act = async (what: 'cancel_rescue' | 'retry_now') => {
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      const after = await post<Payment>(`/v2/payments/${encodeURIComponent(p.id)}/${what}`);
      setNotice(what === 'cancel_rescue' ? 'Rescue cancelled: no more retries.' : `Retried now: the payment is ${humanize(after.status)}.`);
      setConfirming(false);
      reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };
  const active = p.auto_rescue.status === 'active';
  const rows = timeline(p);

  return (
    <>
      <p>
        <Link to="/dashboard/payments">← Payments</Link>
      </p>
      <h1>
        {money(p.amount, p.currency)} <Badge status={p.status} />
      </h1>
      <p className="muted">
        <code>{p.id}</code> · created {dateTime(p.created_at)}
      </p>

      <Section
        title="Rescue"
        actions={
          active && (
            <div className="actions">
              <button type="button" disabled={busy} onClick={() => act('retry_now')}>
                Retry now
              </button>
              {!confirming ? (
                <button type="button" className="danger" disabled={busy} onClick={() => setConfirming(true)}>
                  Cancel rescue
                </button>
              ) : (
                <span className="confirm" role="group" aria-label="Confirm cancel">
                  Stop retrying this payment?{' '}
                  <button type="button" className="danger" disabled={busy} onClick={() => act('cancel_rescue')}>
                    Yes, cancel rescue
                  </button>{' '}
                  <button type="button" disabled={busy} onClick={() => setConfirming(false)}>
                    Keep retrying
                  </button>
                </span>
              )}
            </div>
          )
        }
      >
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <ErrorNote error={actionError} />
        <dl className="facts">
          <dt>Rescue status</dt>
          <dd data-testid="rescue-status">
            <Badge status={p.auto_rescue.status} />
          </dd>
          <dt>Attempts</dt>
          <dd>
            {p.auto_rescue.attempts_made}
            {p.auto_rescue.max_retries !== null ? ` of at most ${p.auto_rescue.max_retries + 1}` : ''}
          </dd>
          {p.auto_rescue.retry_window_ends_at && (
            <>
              <dt>Retry window ends</dt>
              <dd>{dateTime(p.auto_rescue.retry_window_ends_at)}</dd>
            </>
          )}
          {p.auto_rescue.recovered_at && (
            <>
              <dt>Recovered</dt>
              <dd>{dateTime(p.auto_rescue.recovered_at)}</dd>
            </>
          )}
          {p.auto_rescue.cancelled_at && (
            <>
              <dt>Cancelled</dt>
              <dd>{dateTime(p.auto_rescue.cancelled_at)}</dd>
            </>
          )}
          {p.auto_rescue.ended_at && (
            <>
              <dt>Ended</dt>
              <dd>
                {dateTime(p.auto_rescue.ended_at)}
                {p.auto_rescue.end_reason ? ` (${humanize(p.auto_rescue.end_reason)})` : ''}
              </dd>
            </>
          )}
          <dt>Customer</dt>
          <dd data-testid="payment-customer">
            <CustomerName id={p.customer} />
          </dd>
          <dt>Card</dt>
          <dd data-testid="payment-card">{cardLabel(p.payment_method_details)}</dd>
          <dt>Last decline</dt>
          <dd>{p.failure_code ? <><code>{p.failure_code}</code> {p.failure_message}</> : '—'}</dd>
        </dl>
      </Section>

      <Section title="Attempts">
        <div className="table-scroll">
          <table aria-label="Attempts timeline">
            <thead>
              <tr>
                <th scope="col">Attempt</th>
                <th scope="col">When</th>
                <th scope="col">Outcome</th>
                <th scope="col">Decline code</th>
                <th scope="col" className="num">Predicted success</th>
                <th scope="col">Why this time</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} data-kind={r.kind}>
                  <th scope="row">{r.label}</th>
                  <td>
                    {r.kind === 'planned' ? 'planned for ' : ''}
                    {dateTime(r.at)}
                  </td>
                  <td>
                    <Badge status={r.outcome} />
                  </td>
                  <td>{r.declineCode ? <code>{r.declineCode}</code> : '—'}</td>
                  <td className="num">{probability(r.predictedP)}</td>
                  <td>{r.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>

      <PaymentEmails payment={p.id} />

      {Object.keys(p.metadata).length > 0 && (
        <Section title="Metadata">
          <dl className="facts">
            {Object.entries(p.metadata).map(([k, v]) => (
              <div key={k} className="fact">
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </Section>
      )}
    </>
  );
}
