import { useEffect, useState, type FormEvent } from 'react';
import { get, post } from '../../api.ts';
import { ErrorNote, Loading } from '../../components.tsx';
import { Changes, describeChanges, errorFor, Field, formError, FormNote, type FormError } from '../../forms.tsx';

// The control group: a share of hand-offs kept on a plain fixed schedule, so the overview can show
// what the automatic policy adds (Lift's increment and its interval).

interface RecoveryJson {
  control_group_percent: number;
}

export function ControlGroup() {
  const [saved, setSaved] = useState<RecoveryJson | null>(null);
  const [value, setValue] = useState('');
  const [loadError, setLoadError] = useState<Error | null>(null);
  const [error, setError] = useState<FormError | null>(null);
  const [changes, setChanges] = useState<string[] | null>(null);

  useEffect(() => {
    get<RecoveryJson>('/v2/settings/recovery').then((r) => {
      setSaved(r);
      setValue(String(r.control_group_percent));
    }, setLoadError);
  }, []);
  if (loadError) return <ErrorNote error={loadError} />;
  if (!saved) return <Loading />;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const n = value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
      const next = await post<RecoveryJson>('/v2/settings/recovery', { control_group_percent: n });
      setChanges(describeChanges([['Control group (%)', (r: RecoveryJson) => r.control_group_percent]], saved, next));
      setSaved(next);
    } catch (err) {
      setError(formError(err));
    }
  };

  return (
    <section className="card" id="control-group" aria-label="Control group">
      <header className="card-head">
        <h2>Control group</h2>
      </header>
      <form onSubmit={save} aria-label="Control group" noValidate>
        <p className="muted small">Hold back a share of hand-offs on a plain fixed schedule to measure what Rescue's timing adds. 0 turns it off.</p>
        <div className="form-grid">
          <Field label="Control group share (%)" error={errorFor(error, 'control_group_percent')} hint="0 to 20">
            {(p) => (
              <input
                {...p}
                type="number"
                min={0}
                max={20}
                step="any"
                value={value}
                onChange={(e) => {
                  setValue(e.target.value);
                  setChanges(null);
                }}
              />
            )}
          </Field>
        </div>
        <FormNote error={error && !errorFor(error, 'control_group_percent') ? { ...error, param: null } : null} />
        <button type="submit">Save control group</button>
        <Changes changes={changes} />
      </form>
    </section>
  );
}
