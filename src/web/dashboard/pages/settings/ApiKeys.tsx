import { useState } from 'react';
import { del, get, post, type Mode } from '../../api.ts';
import { ErrorNote, Loading, useLoad } from '../../components.tsx';
import { ConfirmButton, SecretOnce } from '../../forms.tsx';
import { dateTime } from '../../format.ts';
import type { ApiKeyJson, List } from '../../types.ts';

// The secret keys of this mode: create (the secret is shown once), roll (a new secret, the old one
// stops at once) and revoke.

export function ApiKeys({ mode }: { mode: Mode }) {
  const { data, error, loading, reload } = useLoad(() => get<List<ApiKeyJson>>('/v2/api_keys'), []);
  const [shown, setShown] = useState<{ label: string; secret: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const act = async (run: () => Promise<void>) => {
    setActionError(null);
    setNotice(null);
    try {
      await run();
    } catch (err) {
      setActionError(err);
    }
    reload();
  };
  const create = () =>
    act(async () => {
      const k = await post<ApiKeyJson>('/v2/api_keys');
      setShown({ label: `New ${mode} key ${k.hint}`, secret: k.secret! });
    });
  const roll = (k: ApiKeyJson) =>
    act(async () => {
      const next = await post<ApiKeyJson>(`/v2/api_keys/${encodeURIComponent(k.id)}/roll`);
      setShown({ label: `New secret for ${next.hint} (${k.hint} no longer works)`, secret: next.secret! });
    });
  const revoke = (k: ApiKeyJson) =>
    act(async () => {
      await del(`/v2/api_keys/${encodeURIComponent(k.id)}`);
      setShown(null);
      setNotice(`Revoked ${k.hint}: it no longer works.`);
    });

  return (
    <section className="card" id="api-keys" aria-label="API keys">
      <header className="card-head">
        <h2>API keys ({mode})</h2>
        <button type="button" onClick={create}>
          Create key
        </button>
      </header>
      {shown && <SecretOnce label={shown.label} secret={shown.secret} onDone={() => setShown(null)} />}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorNote error={actionError ?? error} />
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">No {mode} key: create one to call the API.</p>
      ) : data ? (
        <div className="table-scroll">
          <table aria-label="API keys">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((k) => (
                <tr key={k.id} data-key={k.id}>
                  <td>
                    <code>{k.hint}</code>
                  </td>
                  <td>{dateTime(k.created_at)}</td>
                  <td className="actions">
                    <ConfirmButton label="Roll" confirmLabel={`Roll ${k.hint}`} onConfirm={() => roll(k)} />
                    <ConfirmButton label="Revoke" confirmLabel={`Revoke ${k.hint}`} onConfirm={() => revoke(k)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
