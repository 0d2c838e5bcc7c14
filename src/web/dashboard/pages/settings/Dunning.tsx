import { useEffect, useState, type FormEvent } from 'react';
import { get, post } from '../../api.ts';
import { ErrorNote, Loading } from '../../components.tsx';
import { EMAIL_KINDS, kindLabel } from '../../email-kinds.ts';
import { Changes, Check, describeChanges, errorFor, Field, formError, FormNote, type FormError } from '../../forms.tsx';
import type { DunningSettingsJson, EmailKind, EmailPreviewJson } from '../../types.ts';

// The dunning sequence: whether customers are emailed, which steps, from whom, and where links
// point; beside it a live preview of each email as the customer would read it, with the unsaved
// sender name and reply-to (POST /v2/settings/dunning/preview renders the outbox's templates).

/** When each step is sent: the sequence follows the rescue, so its delays are the retry schedule's. */
const WHEN: Record<EmailKind, string> = {
  payment_failed: 'Step 1 — as soon as a payment fails and its rescue starts',
  retry_reminder: 'Step 2 — after a failed retry, when one retry is left',
  rescue_failed: 'Step 3 — when the rescue ends without the money',
  payment_recovered: 'Receipt — when a retry or a new card collects the money',
  card_expiring: 'Before — when the card on file expires before the next payment (pre-dunning)',
};

interface Draft {
  enabled: boolean;
  from_name: string;
  reply_to: string;
  update_payment_url: string;
  logo_url: string;
  brand_color: string;
  default_locale: string;
  emails: DunningSettingsJson['emails'];
}

const draftOf = (s: DunningSettingsJson): Draft => ({ enabled: s.enabled, from_name: s.from_name ?? '', reply_to: s.reply_to ?? '', update_payment_url: s.update_payment_url ?? '', logo_url: s.logo_url ?? '', brand_color: s.brand_color ?? '', default_locale: s.default_locale ?? '', emails: s.emails });
const orNull = (v: string) => (v.trim() === '' ? null : v.trim());

const LABELS: [string, (s: DunningSettingsJson) => unknown][] = [
  ['Customer emails', (s) => s.enabled],
  ['Sender name', (s) => s.from_name],
  ['Reply-to', (s) => s.reply_to],
  ['Update-payment page', (s) => s.update_payment_url],
  ['Logo', (s) => s.logo_url],
  ['Button colour', (s) => s.brand_color],
  ["Customers' default language", (s) => s.default_locale],
  ...EMAIL_KINDS.map((k): [string, (s: DunningSettingsJson) => unknown] => [kindLabel(k), (s) => s.emails[k]]),
];

export function Dunning() {
  const [saved, setSaved] = useState<DunningSettingsJson | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [changes, setChanges] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<DunningSettingsJson>('/v2/settings/dunning').then((s) => {
      setSaved(s);
      setDraft(draftOf(s));
    }, setLoadError);
  }, []);

  if (loadError) return <ErrorNote error={loadError} />;
  if (!draft || !saved) return <Loading />;
  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setChanges(null);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const next = await post<DunningSettingsJson>('/v2/settings/dunning', {
        enabled: draft.enabled,
        from_name: orNull(draft.from_name),
        reply_to: orNull(draft.reply_to),
        update_payment_url: orNull(draft.update_payment_url),
        logo_url: orNull(draft.logo_url),
        brand_color: orNull(draft.brand_color),
        default_locale: orNull(draft.default_locale),
        emails: draft.emails,
      });
      setChanges(describeChanges(LABELS, saved, next));
      setSaved(next);
      setDraft(draftOf(next));
    } catch (err) {
      setError(formError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" id="dunning" aria-label="Dunning emails">
      <header className="card-head">
        <h2>Dunning emails</h2>
      </header>
      <form onSubmit={save} aria-label="Dunning sequence" noValidate>
        <Check label="Email customers about their failed payments" checked={draft.enabled} onChange={(v) => set({ enabled: v })} />
        <fieldset className="group">
          <legend>The sequence</legend>
          {EMAIL_KINDS.map((k) => (
            <Check key={k} label={kindLabel(k)} hint={WHEN[k]} checked={draft.emails[k]} onChange={(v) => set({ emails: { ...draft.emails, [k]: v } })} />
          ))}
          <p className="hint">Retries decide the timing: the reminder goes out before the last retry the schedule above plans.</p>
        </fieldset>
        <div className="form-grid">
          <Field label="Sender name" error={errorFor(error, 'from_name')} hint="empty: your business name">
            {(p) => <input {...p} value={draft.from_name} onChange={(e) => set({ from_name: e.target.value })} />}
          </Field>
          <Field label="Reply-to address" error={errorFor(error, 'reply_to')}>
            {(p) => <input {...p} type="email" value={draft.reply_to} onChange={(e) => set({ reply_to: e.target.value })} />}
          </Field>
          <Field label="Your update-payment page" error={errorFor(error, 'update_payment_url')} hint="empty: Rescue's hosted page">
            {(p) => <input {...p} type="url" value={draft.update_payment_url} onChange={(e) => set({ update_payment_url: e.target.value })} />}
          </Field>
          <Field label="Customers' default language" error={errorFor(error, 'default_locale')} hint="for customers without a locale of their own">
            {(p) => (
              <select {...p} value={draft.default_locale} onChange={(e) => set({ default_locale: e.target.value })}>
                <option value="">English (Rescue's default)</option>
                {LOCALES.filter(([v]) => v !== 'en-US').map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <fieldset className="group">
          <legend>Branding</legend>
          <div className="form-grid">
            <Field label="Logo URL" error={errorFor(error, 'logo_url')} hint="an https image, shown above each email">
              {(p) => <input {...p} type="url" value={draft.logo_url} onChange={(e) => set({ logo_url: e.target.value })} />}
            </Field>
            <Field label="Button colour" error={errorFor(error, 'brand_color')} hint="#rrggbb; empty: Rescue's blue">
              {(p) => <input {...p} value={draft.brand_color} placeholder="#1a56db" onChange={(e) => set({ brand_color: e.target.value })} />}
            </Field>
          </div>
        </fieldset>
        <FormNote error={error && !['from_name', 'reply_to', 'update_payment_url', 'logo_url', 'brand_color', 'default_locale', 'emails', 'enabled'].some((p) => errorFor(error, p)) ? { ...error, param: null } : null} />
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save dunning'}
        </button>
        <Changes changes={changes} />
      </form>
      <EmailPreview unsaved={{ from_name: orNull(draft.from_name), reply_to: orNull(draft.reply_to), logo_url: orNull(draft.logo_url), brand_color: orNull(draft.brand_color) }} />
    </section>
  );
}

const LOCALES = [
  ['en-US', 'English (US)'],
  ['en-GB', 'English (UK)'],
  ['de-DE', 'Deutsch'],
  ['fr-FR', 'Français'],
  ['es-ES', 'Español'],
] as const;

type Unsaved = Pick<DunningSettingsJson, 'from_name' | 'reply_to' | 'logo_url' | 'brand_color'>;

function EmailPreview({ unsaved }: { unsaved: Unsaved }) {
  const unsavedKey = JSON.stringify(unsaved);
  const [kind, setKind] = useState<EmailKind>('payment_failed');
  const [locale, setLocale] = useState<string>('en-US');
  const [preview, setPreview] = useState<EmailPreviewJson | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [sent, setSent] = useState<{ ok: boolean; message: string } | null>(null);

  const sendTest = async () => {
    setSent(null);
    try {
      const r = await post<{ to: string; subject: string }>('/v2/settings/dunning/test_email', { kind, locale, ...unsaved });
      setSent({ ok: true, message: `Sent “${r.subject}” to ${r.to}.` });
    } catch (err) {
      setSent({ ok: false, message: formError(err).message });
    }
  };

  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      post<EmailPreviewJson>('/v2/settings/dunning/preview', { kind, locale, ...unsaved }).then(
        (p) => live && (setPreview(p), setError(null)),
        (err) => live && setError(formError(err)),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [kind, locale, unsavedKey]);

  return (
    <section aria-label="Email preview" className="preview-grid">
      <h3>Preview</h3>
      <div className="form-grid">
        <Field label="Email">
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.target.value as EmailKind)}>
              {EMAIL_KINDS.map((k) => (
                <option key={k} value={k}>
                  {kindLabel(k)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Customer's language">
          {(p) => (
            <select {...p} value={locale} onChange={(e) => setLocale(e.target.value)}>
              {LOCALES.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {error && <p className="muted">The preview shows once the values above are valid: {error.message}</p>}
      {preview && !error && (
        <>
          <dl className="email-meta" aria-label="Envelope">
            <dt>From</dt>
            <dd data-field="from">{preview.from_name}</dd>
            <dt>Reply-to</dt>
            <dd data-field="reply-to">{preview.reply_to ?? '—'}</dd>
            <dt>Subject</dt>
            <dd data-field="subject">{preview.subject}</dd>
          </dl>
          {/* The email's own HTML, never in this page: an opaque, script-less frame (as on an email's page). */}
          <iframe className="email-html" title="Email preview" sandbox="" referrerPolicy="no-referrer" srcDoc={preview.html} />
          <div className="actions">
            <button type="button" onClick={sendTest}>
              Send a test email to me
            </button>
            {sent && (
              <span className={sent.ok ? 'notice' : 'error'} role={sent.ok ? 'status' : 'alert'} data-field="test-send">
                {sent.message}
              </span>
            )}
          </div>
          <details>
            <summary>Text version</summary>
            <pre className="email-text" data-field="text">
              {preview.text}
            </pre>
          </details>
        </>
      )}
    </section>
  );
}
