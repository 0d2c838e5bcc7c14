import { useState } from 'react';
import { del, get, post } from '../api.ts';
import { Badge, ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { dateTime } from '../format.ts';
import { Changes, ConfirmButton, SecretOnce } from '../forms.tsx';
import type { List, WebhookDelivery, WebhookEndpoint } from '../types.ts';
import { EndpointForm } from '../webhook-forms.tsx';

// Webhook endpoints of this mode: add one (its signing secret is shown once), edit its events,
// disable or enable it, rotate its secret, delete it; and each one's delivery log, where a delivery
// can be sent again.

export function Webhooks() {
  const { data, error, loading, reload } = useLoad(() => get<List<WebhookEndpoint>>('/v2/webhook_endpoints?limit=100'), []);
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<{ label: string; secret: string } | null>(null);
  const [changes, setChanges] = useState<string[] | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const act = async (run: () => Promise<string[]>) => {
    setActionError(null);
    setChanges(null);
    try {
      setChanges(await run());
    } catch (err) {
      setActionError(err);
    }
    reload();
  };
  const toggle = (e: WebhookEndpoint) =>
    act(async () => {
      await post(`/v2/webhook_endpoints/${encodeURIComponent(e.id)}`, { disabled: e.status === 'enabled' });
      return [`${e.url}: ${e.status === 'enabled' ? 'disabled' : 'enabled'}`];
    });
  const rotate = (e: WebhookEndpoint) =>
    act(async () => {
      const r = await post<{ secret: string; previous_secret_expires_at: string | null }>(`/v2/webhook_endpoints/${encodeURIComponent(e.id)}/rotate_secret`);
      setSecret({ label: `New signing secret of ${e.url}`, secret: r.secret });
      return [`${e.url}: new signing secret; the old one keeps signing until ${dateTime(r.previous_secret_expires_at)}`];
    });
  const remove = (e: WebhookEndpoint) =>
    act(async () => {
      await del(`/v2/webhook_endpoints/${encodeURIComponent(e.id)}`);
      if (open === e.id) setOpen(null);
      return [`Deleted ${e.url}`];
    });

  if (error) return <ErrorNote error={error} />;
  if (loading && !data) return <Loading />;
  if (!data) return null;
  const editingEndpoint = data.data.find((e) => e.id === editing) ?? null;
  return (
    <>
      <h1>Webhooks</h1>
      <div className="actions">
        <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
          Add endpoint
        </button>
      </div>
      {adding && (
        <Section title="Add an endpoint">
          <EndpointForm
            endpoint={null}
            onCancel={() => setAdding(false)}
            onSaved={(e, c) => {
              setAdding(false);
              setChanges(c);
              if (e.secret) setSecret({ label: `Signing secret of ${e.url}`, secret: e.secret });
              reload();
            }}
          />
        </Section>
      )}
      {secret && <SecretOnce label={secret.label} secret={secret.secret} onDone={() => setSecret(null)} />}
      <Changes changes={changes} />
      <ErrorNote error={actionError} />
      {data.data.length === 0 ? (
        <p className="muted">No webhook endpoints in this mode yet: add one above.</p>
      ) : (
        <div className="table-scroll">
          <table aria-label="Webhook endpoints">
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
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
                  <td className="small" data-field="events">
                    {e.enabled_events.join(', ')}
                  </td>
                  <td data-field="status">
                    <Badge status={e.status} />
                    {e.disabled_reason && <div className="muted small">{e.disabled_reason === 'failing' ? 'turned off: deliveries kept failing' : 'turned off by you'}</div>}
                  </td>
                  <td>{dateTime(e.created_at)}</td>
                  <td className="actions">
                    <button type="button" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>
                      {open === e.id ? 'Hide deliveries' : 'Recent deliveries'}
                    </button>
                    <button type="button" aria-expanded={editing === e.id} onClick={() => setEditing(editing === e.id ? null : e.id)}>
                      Edit
                    </button>
                    <button type="button" onClick={() => toggle(e)}>
                      {e.status === 'enabled' ? 'Disable' : 'Enable'}
                    </button>
                    <ConfirmButton label="Rotate secret" confirmLabel="Rotate now" onConfirm={() => rotate(e)} />
                    <ConfirmButton label="Delete" confirmLabel="Delete for good" onConfirm={() => remove(e)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {editingEndpoint && (
        <Section title={`Edit ${editingEndpoint.id}`}>
          <EndpointForm
            key={editingEndpoint.id}
            endpoint={editingEndpoint}
            onCancel={() => setEditing(null)}
            onSaved={(_e, c) => {
              setEditing(null);
              setChanges(c);
              reload();
            }}
          />
        </Section>
      )}
      {open && <Deliveries endpoint={open} />}
    </>
  );
}

function Deliveries({ endpoint }: { endpoint: string }) {
  const { data, error, loading, reload } = useLoad(() => get<List<WebhookDelivery>>(`/v2/webhook_endpoints/${encodeURIComponent(endpoint)}/deliveries?limit=25`), [endpoint]);
  const [resent, setResent] = useState<string | null>(null);
  const [resendError, setResendError] = useState<unknown>(null);
  const resend = async (d: WebhookDelivery) => {
    setResendError(null);
    setResent(null);
    try {
      await post(`/v2/events/${encodeURIComponent(d.event)}/resend`, { endpoint });
      setResent(`Sent ${d.event_type} again: the new delivery is at the top.`);
    } catch (err) {
      setResendError(err);
    }
    reload();
  };
  return (
    <Section
      title={`Recent deliveries to ${endpoint}`}
      actions={
        <button type="button" disabled={loading} onClick={reload}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={error ?? resendError} />
      {resent && (
        <p className="notice" role="status">
          {resent}
        </p>
      )}
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">No deliveries yet.</p>
      ) : data ? (
        <div className="table-scroll">
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
                <th scope="col">
                  <span className="visually-hidden">Resend</span>
                </th>
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
                  <td>
                    <button type="button" onClick={() => resend(d)} aria-label={`Resend ${d.event_type} ${d.event}`}>
                      Resend
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Section>
  );
}
