import { useState } from 'react';
import { get } from '../api.ts';
import { Badge, ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';
import type { List, WebhookDelivery, WebhookEndpoint } from '../types.ts';

export function Webhooks() {
  const { data, error, loading } = useLoad(() => get<List<WebhookEndpoint>>('/v2/webhook_endpoints?limit=100'), []);
  const [open, setOpen] = useState<string | null>(null);
  if (error) return <ErrorNote error={error} />;
  if (loading && !data) return <Loading />;
  if (!data) return null;
  return (
    <>
      <h1>Webhooks</h1>
      {data.data.length === 0 ? (
        <p className="muted">No webhook endpoints in this mode. Create one with POST /v2/webhook_endpoints (README, Webhooks).</p>
      ) : (
        <table aria-label="Webhook endpoints">
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Deliveries</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((e) => (
              <tr key={e.id} data-endpoint={e.id}>
                <td data-field="url">
                  <code>{e.url}</code>
                  {e.description && <div className="muted small">{e.description}</div>}
                </td>
                <td className="small">{e.enabled_events.join(', ')}</td>
                <td data-field="status">
                  <Badge status={e.status} />
                  {e.disabled_reason && <div className="muted small">{e.disabled_reason === 'failing' ? 'turned off: deliveries kept failing' : 'turned off by you'}</div>}
                </td>
                <td>{dateTime(e.created_at)}</td>
                <td>
                  <button type="button" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                    {open === e.id ? 'Hide deliveries' : 'Recent deliveries'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <Deliveries endpoint={open} />}
    </>
  );
}

function Deliveries({ endpoint }: { endpoint: string }) {
  const { data, error, loading, reload } = useLoad(() => get<List<WebhookDelivery>>(`/v2/webhook_endpoints/${encodeURIComponent(endpoint)}/deliveries?limit=25`), [endpoint]);
  return (
    <Section
      title={`Recent deliveries to ${endpoint}`}
      actions={
        <button type="button" disabled={loading} onClick={reload}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={error} />
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">No deliveries yet.</p>
      ) : data ? (
        <table aria-label="Deliveries">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">Attempts</th>
              <th scope="col">Last answer</th>
              <th scope="col">Last attempt</th>
              <th scope="col">Next retry</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((d) => (
              <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                <td data-field="event">
                  {d.event_type} <code className="small">{d.event}</code>
                </td>
                <td data-field="status">
                  <Badge status={d.status} />
                </td>
                <td className="num" data-field="attempts">
                  {d.attempts}
                </td>
                <td data-field="answer">
                  {d.response_status ?? '—'}
                  {d.latency_ms !== null && <span className="muted small"> in {d.latency_ms} ms</span>}
                  {d.error && <div className="error small">{d.error}</div>}
                </td>
                <td>{dateTime(d.last_attempt_at)}</td>
                <td>{dateTime(d.next_retry_at)}</td>
                <td>{dateTime(d.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}
