import { useId, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import './forms.css';

// What every settings form shares: a labelled field that shows the API's error for its `param`
// beside it, a summary of what a save changed, a secret shown once, and a two-step confirm.

/** The API's error, split into the one a field shows (by `param`) and the rest, shown at the form. */
export interface FormError {
  param: string | null;
  message: string;
}

export function formError(err: unknown): FormError {
  if (err instanceof ApiError) return { param: err.param, message: err.message };
  return { param: null, message: err instanceof Error ? err.message : 'Rescue could not be reached. Try again.' };
}

/** The error to show beside a field whose API name is `param` (a nested one matches its parent too). */
export function errorFor(error: FormError | null, ...params: string[]): string | null {
  if (!error?.param) return null;
  return params.some((p) => error.param === p || error.param!.startsWith(`${p}[`) || error.param!.startsWith(`${p}.`)) ? error.message : null;
}

export function Field({ label, error, hint, children }: { label: string; error?: string | null; hint?: ReactNode; children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => ReactNode }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': described })}
      {hint && (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

export function Check({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>
        {label}
        {hint && <span className="hint"> — {hint}</span>}
      </span>
    </label>
  );
}

/** "Saved: Max retries 4 → 6, …" — or that nothing changed. */
export function Changes({ changes }: { changes: string[] | null }) {
  if (!changes) return null;
  return (
    <div className="notice changes" role="status">
      {changes.length === 0 ? (
        'Saved. Nothing changed.'
      ) : (
        <>
          Saved:
          <ul>
            {changes.map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The lines "Label: before → after" for each field whose shown value differs. */
export function describeChanges<T>(labels: [label: string, read: (v: T) => unknown][], before: T, after: T): string[] {
  const show = (v: unknown) => (v === null || v === undefined || v === '' ? 'none' : Array.isArray(v) ? v.join(', ') : typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v));
  return labels.filter(([, read]) => show(read(before)) !== show(read(after))).map(([label, read]) => `${label}: ${show(read(before))} → ${show(read(after))}`);
}

/** A secret the server shows once: in full, with the reminder that it will not be shown again. */
export function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  return (
    <div className="secret" role="status" aria-label={label}>
      <p>
        <strong>{label}</strong> — copy it now: it will not be shown again.
      </p>
      <code data-secret="">{secret}</code>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

/** A destructive action asks once more, in place. */
export function ConfirmButton({ label, confirmLabel, onConfirm, disabled }: { label: string; confirmLabel: string; onConfirm: () => void; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className="danger" disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  return (
    <span className="confirm">
      <button
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}

export function FormNote({ error }: { error: FormError | null }) {
  if (!error || error.param) return null;
  return (
    <p className="error" role="alert">
      {error.message}
    </p>
  );
}
