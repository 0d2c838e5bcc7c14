import { useState, type FormEvent } from 'react';
import { EVENT_TYPES } from '../../domain/events.ts';
import { post } from './api.ts';
import { errorFor, Field, formError, FormNote, type FormError } from './forms.tsx';
import type { WebhookEndpoint } from './types.ts';

// The endpoint form of the Webhooks page: its URL, description and the events it receives ("all
// events" or a chosen few), for a new endpoint or an existing one.

export function EventChoice({ value, onChange, error }: { value: string[]; onChange: (v: string[]) => void; error: string | null }) {
  const all = value.includes('*');
  return (
    <fieldset className="group" aria-invalid={Boolean(error)}>
      <legend>Events</legend>
      <label className="check">
        <input type="checkbox" checked={all} onChange={(e) => onChange(e.target.checked ? ['*'] : [])} />
        <span>All events</span>
      </label>
      {!all &&
        EVENT_TYPES.map((t) => (
          <label className="check" key={t}>
            <input type="checkbox" checked={value.includes(t)} onChange={(e) => onChange(e.target.checked ? [...value, t] : value.filter((v) => v !== t))} />
            <code>{t}</code>
          </label>
        ))}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </fieldset>
  );
}

export function EndpointForm({ endpoint, onSaved, onCancel }: { endpoint: WebhookEndpoint | null; onSaved: (e: WebhookEndpoint & { secret: string | null }, changes: string[]) => void; onCancel?: () => void }) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [events, setEvents] = useState<string[]>(endpoint?.enabled_events ?? ['*']);
  const [error, setError] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { url, description: description.trim() === '' ? null : description, enabled_events: events };
      const saved = await post<WebhookEndpoint & { secret: string | null }>(endpoint ? `/v2/webhook_endpoints/${encodeURIComponent(endpoint.id)}` : '/v2/webhook_endpoints', body);
      const changes = endpoint
        ? [
            endpoint.url !== saved.url ? `URL: ${endpoint.url} → ${saved.url}` : null,
            (endpoint.description ?? '') !== (saved.description ?? '') ? `Description: ${endpoint.description ?? 'none'} → ${saved.description ?? 'none'}` : null,
            endpoint.enabled_events.join(', ') !== saved.enabled_events.join(', ') ? `Events: ${endpoint.enabled_events.join(', ')} → ${saved.enabled_events.join(', ')}` : null,
          ].filter((c): c is string => c !== null)
        : [`Added ${saved.url}`];
      onSaved(saved, changes);
    } catch (err) {
      setError(formError(err));
    } finally {
      setBusy(false);
    }
  };

  const title = endpoint ? `Edit ${endpoint.id}` : 'Add an endpoint';
  return (
    <form onSubmit={submit} aria-label={title} noValidate className="form-stack">
      <div className="form-grid">
        <Field label="Endpoint URL" error={errorFor(error, 'url')}>
          {(p) => <input {...p} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />}
        </Field>
        <Field label="Description" error={errorFor(error, 'description')}>
          {(p) => <input {...p} value={description} onChange={(e) => setDescription(e.target.value)} />}
        </Field>
      </div>
      <EventChoice value={events} onChange={setEvents} error={errorFor(error, 'enabled_events')} />
      <FormNote error={error && !['url', 'description', 'enabled_events'].some((p) => errorFor(error, p)) ? { ...error, param: null } : null} />
      <div className="actions">
        <button type="submit" disabled={busy}>
          {endpoint ? 'Save endpoint' : 'Add endpoint'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
