import { useEffect, useState, type FormEvent } from 'react';
import { get, post } from '../../api.ts';
import { ErrorNote, Loading } from '../../components.tsx';
import { Changes, Check, describeChanges, errorFor, Field, formError, FormNote, type FormError } from '../../forms.tsx';
import { dateTime, probability } from '../../format.ts';
import type { AutoRescueSettings, SchedulePreview } from '../../types.ts';

// Auto Rescue defaults: whether payments that qualify are rescued, the budget, automatic or custom
// days, and the qualifying rules. The timeline shows the retries the engine would plan for an
// example decline under the values on the form, saved or not (POST /v2/settings/auto_rescue/preview).

interface Draft {
  enabled: boolean;
  max_retries: string;
  retry_window_days: string;
  retry_schedule: 'automatic' | 'custom';
  custom_days: string;
  learned: boolean;
  subscription_payments: boolean;
  off_session_payments: boolean;
  amount_over: string;
}

const draftOf = (s: AutoRescueSettings): Draft => ({
  enabled: s.enabled,
  max_retries: String(s.max_retries),
  retry_window_days: String(s.retry_window_days),
  retry_schedule: s.retry_schedule,
  custom_days: (s.custom_schedule_days ?? []).join(', '),
  learned: s.learned,
  subscription_payments: s.qualifying.subscription_payments,
  off_session_payments: s.qualifying.off_session_payments,
  amount_over: s.qualifying.amount_over === null ? '' : String(s.qualifying.amount_over),
});

/** The form as the API's body. A field that is not a number is sent as typed, so the API names it. */
function bodyOf(d: Draft) {
  const num = (v: string) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v);
  const days = d.custom_days
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(num);
  return {
    enabled: d.enabled,
    max_retries: num(d.max_retries),
    retry_window_days: num(d.retry_window_days),
    retry_schedule: d.retry_schedule,
    ...(d.retry_schedule === 'custom' ? { custom_schedule_days: days } : {}),
    learned: d.learned,
    qualifying: { subscription_payments: d.subscription_payments, off_session_payments: d.off_session_payments, amount_over: d.amount_over.trim() === '' ? null : num(d.amount_over) },
  };
}

const LABELS: [string, (s: AutoRescueSettings) => unknown][] = [
  ['Auto Rescue', (s) => s.enabled],
  ['Max retries', (s) => s.max_retries],
  ['Retry window (days)', (s) => s.retry_window_days],
  ['Schedule', (s) => s.retry_schedule],
  ['Custom days', (s) => s.custom_schedule_days],
  ['Learned timing', (s) => s.learned],
  ['Subscription payments', (s) => s.qualifying.subscription_payments],
  ['Off-session payments', (s) => s.qualifying.off_session_payments],
  ['Amount over', (s) => s.qualifying.amount_over],
];

export function AutoRescue() {
  const [saved, setSaved] = useState<AutoRescueSettings | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [changes, setChanges] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<AutoRescueSettings>('/v2/settings/auto_rescue').then((s) => {
      setSaved(s);
      setDraft(draftOf(s));
    }, setLoadError);
  }, []);

  if (loadError) return <ErrorNote error={loadError} />;
  if (!draft || !saved) return <Loading />;
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setDraft({ ...draft, [k]: v });
    setChanges(null);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const next = await post<AutoRescueSettings>('/v2/settings/auto_rescue', bodyOf(draft));
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
    <section className="card" id="auto-rescue" aria-label="Auto Rescue">
      <header className="card-head">
        <h2>Auto Rescue</h2>
      </header>
      <form onSubmit={save} aria-label="Auto Rescue defaults" noValidate>
        <Check label="Rescue failed payments that qualify" checked={draft.enabled} onChange={(v) => set('enabled', v)} hint="a payment's own auto_rescue options always win" />
        <div className="form-grid">
          <Field label="Max retries" error={errorFor(error, 'max_retries')} hint="1 to 8">
            {(p) => <input {...p} type="number" min={1} max={8} value={draft.max_retries} onChange={(e) => set('max_retries', e.target.value)} />}
          </Field>
          <Field label="Retry window (days)" error={errorFor(error, 'retry_window_days')} hint="7 to 30">
            {(p) => <input {...p} type="number" min={7} max={30} value={draft.retry_window_days} onChange={(e) => set('retry_window_days', e.target.value)} />}
          </Field>
          <Field label="Schedule" error={errorFor(error, 'retry_schedule')}>
            {(p) => (
              <select {...p} value={draft.retry_schedule} onChange={(e) => set('retry_schedule', e.target.value as Draft['retry_schedule'])}>
                <option value="automatic">Automatic (Rescue picks the moments)</option>
                <option value="custom">Custom days</option>
              </select>
            )}
          </Field>
          {draft.retry_schedule === 'custom' && (
            <Field label="Custom days" error={errorFor(error, 'custom_schedule_days')} hint="days after the failure, e.g. 1, 3, 7">
              {(p) => <input {...p} inputMode="numeric" value={draft.custom_days} onChange={(e) => set('custom_days', e.target.value)} />}
            </Field>
          )}
        </div>
        {draft.retry_schedule === 'automatic' && <Check label="Learned timing" checked={draft.learned} onChange={(v) => set('learned', v)} hint="plan with the retry-timing model trained on your own payments" />}
        <fieldset className="group">
          <legend>Qualifying payments (any that matches)</legend>
          <Check label="Subscription payments" checked={draft.subscription_payments} onChange={(v) => set('subscription_payments', v)} hint="metadata.subscription_id is set" />
          <Check label="Off-session payments" checked={draft.off_session_payments} onChange={(v) => set('off_session_payments', v)} />
          <Field label="Amount over (minor units, e.g. cents)" error={errorFor(error, 'qualifying')} hint="empty: no amount rule">
            {(p) => <input {...p} type="number" min={0} value={draft.amount_over} onChange={(e) => set('amount_over', e.target.value)} />}
          </Field>
        </fieldset>
        <FormNote error={error && !['max_retries', 'retry_window_days', 'retry_schedule', 'custom_schedule_days', 'qualifying'].some((p) => errorFor(error, p)) ? { ...error, param: null } : null} />
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save Auto Rescue'}
        </button>
        <Changes changes={changes} />
      </form>
      <Timeline draft={draft} />
    </section>
  );
}

const DECLINES = [
  ['insufficient_funds', 'Insufficient funds'],
  ['card_velocity_exceeded', 'Card over its limit'],
  ['processing_error', 'Processing error'],
  ['do_not_honor', 'Do not honor'],
  ['expired_card', 'Expired card'],
] as const;

/** The planned retries for an example decline, as a line from the failure to the window's end and as a list. */
function Timeline({ draft }: { draft: Draft }) {
  const [decline, setDecline] = useState<string>('insufficient_funds');
  const [preview, setPreview] = useState<SchedulePreview | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const key = JSON.stringify([bodyOf(draft), decline]);

  useEffect(() => {
    let live = true;
    // A short pause lets typing finish before the planner runs.
    const timer = setTimeout(() => {
      const { enabled: _e, ...schedule } = bodyOf(draft);
      const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      post<SchedulePreview>('/v2/settings/auto_rescue/preview', { ...schedule, example: { decline_code: decline, timezone } }).then(
        (p) => live && (setPreview(p), setError(null)),
        (err) => live && setError(formError(err)),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const span = preview ? Date.parse(preview.window_ends_at) - Date.parse(preview.failed_at) : 1;
  const at = (iso: string) => `${Math.min(100, Math.max(0, ((Date.parse(iso) - Date.parse(preview!.failed_at)) / span) * 100))}%`;
  return (
    <section aria-label="Retry timeline" className="timeline-box">
      <h3>Retry timeline for an example decline</h3>
      <Field label="Example decline">
        {(p) => (
          <select {...p} value={decline} onChange={(e) => setDecline(e.target.value)}>
            {DECLINES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        )}
      </Field>
      {error && <p className="muted">The timeline shows once the values above are valid: {error.message}</p>}
      {preview && !error && (
        <>
          <div className="timeline" aria-hidden="true">
            <span className="mark fail" style={{ left: '0%' }}>
              failed
            </span>
            {preview.scheduled_retries.map((r) => (
              <span key={r.retry_number} className="mark" style={{ left: at(r.scheduled_at) }}>
                {r.retry_number}
              </span>
            ))}
            <span className="mark end" style={{ left: '100%' }}>
              end
            </span>
          </div>
          <p className="small muted">
            Planned by the {preview.planner === 'learned' ? 'learned automatic' : preview.planner} schedule, within {preview.retry_window_days} days and {preview.max_retries} retries, for a
            payment failing now ({preview.decline.code}, {preview.decline.category}).
          </p>
          {preview.scheduled_retries.length === 0 ? (
            <p data-testid="no-retries">No retry: {preview.stop_reason === 'hard_decline' ? 'this decline is never retried.' : (preview.stop_reason ?? 'nothing fits the window.')}</p>
          ) : (
            <ol className="planned" aria-label="Planned retries">
              {preview.scheduled_retries.map((r) => (
                <li key={r.retry_number} data-at={r.scheduled_at}>
                  {dateTime(r.scheduled_at)} — day {r.days_after_failure}
                  {r.predicted_p !== null && <span className="muted"> · {probability(r.predicted_p)} predicted</span>}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}
