import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import { humanize } from './format.ts';

type Tone = 'good' | 'bad' | 'warn' | 'info' | 'muted';

const TONES: Record<string, Tone> = {
  succeeded: 'good', recovered: 'good', connected: 'good', enabled: 'good', sent: 'good', done: 'good', active: 'info',
  failed: 'bad', exhausted: 'bad', not_retryable: 'bad', disabled: 'bad',
  requires_rescue: 'warn', needs_attention: 'warn', needs_reconnect: 'warn', rescue_in_progress: 'info', processing: 'info', pending: 'info', queued: 'info', running: 'info', planned: 'muted',
  rescue_cancelled: 'muted', cancelled: 'muted', not_needed: 'muted', not_connected: 'muted', disconnected: 'muted',
};

export function Badge({ status }: { status: string }) {
  return <span className={`badge badge-${TONES[status] ?? 'muted'}`}>{humanize(status)}</span>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

export function Loading() {
  return <p className="muted" aria-live="polite">Loading…</p>;
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card" aria-label={title}>
      <header className="card-head">
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

/** Cursor pages: Previous and Next around the page number. */
export function Pager({ page, hasMore, onPrevious, onNext }: { page: number; hasMore: boolean; onPrevious: () => void; onNext: () => void }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={onPrevious}>
        Previous
      </button>
      <span className="muted">Page {page}</span>
      <button type="button" disabled={!hasMore} onClick={onNext}>
        Next
      </button>
    </nav>
  );
}

/** A labelled list filter: "All" (the empty value) first, then each option's value and label. */
export function FilterSelect({ label, value, options, onChange }: { label: string; value: string; options: readonly (readonly [value: string, label: string])[]; onChange: (value: string | null) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">All</option>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </label>
  );
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | Error | null;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `deps`, and again on reload(); the latest request wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: Error | null; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: Error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload };
}
