import { useState, type FormEvent } from 'react';
import { get, post, type Mode } from '../../api.ts';
import { Badge, ErrorNote, Loading, useLoad } from '../../components.tsx';
import { errorFor, Field, formError, FormNote, SecretOnce, type FormError } from '../../forms.tsx';
import { Link } from '../../router.tsx';
import type { GatewayJson, List, StripeConnection } from '../../types.ts';

// Where charges go: the default gateway of this mode (the sandbox in test mode, or the merchant's
// own `http` endpoint), named gateways that tokens are routed to by prefix, and the Stripe connection.

type Kind = 'sandbox' | 'http';

export function Gateways({ mode }: { mode: Mode }) {
  const list = useLoad(() => get<List<GatewayJson>>('/v2/settings/gateways'), []);
  const stripe = useLoad(() => get<StripeConnection>('/v2/stripe/connection'), []);
  const [secret, setSecret] = useState<{ label: string; secret: string } | null>(null);
  const saved = (g: GatewayJson, label: string) => {
    if (g.type === 'http' && g.secret) setSecret({ label, secret: g.secret });
    list.reload();
  };
  return (
    <section className="card" id="gateways" aria-label="Gateways">
      <header className="card-head">
        <h2>Gateways</h2>
      </header>
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data ? (
        <div className="table-scroll">
          <table aria-label="Gateways of this mode">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Endpoint</th>
                <th scope="col">Token prefixes</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((g) => (
                <tr key={g.name} data-gateway={g.name}>
                  <td>{g.default ? `${g.name} (default)` : g.name}</td>
                  <td data-field="type">{g.type}</td>
                  <td className="small">{g.url ? <code>{g.url}</code> : '—'}</td>
                  <td className="small">{g.token_prefixes.length ? g.token_prefixes.join(', ') : g.default ? 'every other token' : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {secret && <SecretOnce label={secret.label} secret={secret.secret} onDone={() => setSecret(null)} />}
      <GatewayForm mode={mode} named={false} onSaved={(g) => saved(g, 'Signing secret of the default gateway')} />
      <GatewayForm mode={mode} named onSaved={(g) => saved(g, `Signing secret of gateway ${g.name}`)} />
      <h3>Stripe</h3>
      {stripe.error ? (
        <ErrorNote error={stripe.error} />
      ) : stripe.data ? (
        <p data-field="stripe">
          <Badge status={stripe.data.status} /> {stripe.data.stripe_account && <code>{stripe.data.stripe_account}</code>} <Link to="/dashboard/stripe">{stripe.data.status === 'connected' ? 'Manage the Stripe connection' : 'Connect Stripe'}</Link>
        </p>
      ) : (
        <Loading />
      )}
    </section>
  );
}

function GatewayForm({ mode, named, onSaved }: { mode: Mode; named: boolean; onSaved: (g: GatewayJson) => void }) {
  const [kind, setKind] = useState<Kind>(mode === 'test' ? 'sandbox' : 'http');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [prefixes, setPrefixes] = useState('');
  const [error, setError] = useState<FormError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const token_prefixes = prefixes.split(/[\s,]+/).filter(Boolean);
      const body = { type: kind, ...(kind === 'http' ? { url } : {}), ...(named ? { name, ...(token_prefixes.length ? { token_prefixes } : {}) } : {}) };
      const g = await post<GatewayJson>(named ? '/v2/settings/gateways' : '/v2/settings/gateway', body);
      setDone(named ? `Saved gateway ${name}: ${kind}${kind === 'http' ? ` at ${url}` : ''}.` : `Saved: the default gateway is now ${kind}${kind === 'http' ? ` at ${url}` : ''}.`);
      onSaved({ ...g, name: named ? name : 'default', default: !named, token_prefixes: token_prefixes });
    } catch (err) {
      setError(formError(err));
    } finally {
      setBusy(false);
    }
  };

  const title = named ? 'Add or replace a named gateway' : 'Default gateway';
  return (
    <form onSubmit={submit} aria-label={title} noValidate>
      <h3>{title}</h3>
      <div className="form-grid">
        {named && (
          <Field label="Gateway name" error={errorFor(error, 'name')}>
            {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
        )}
        <Field label={named ? 'Gateway type' : 'Default gateway type'} error={errorFor(error, 'type')}>
          {(p) => (
            <select {...p} value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="sandbox">Sandbox card network (test mode)</option>
              <option value="http">Your own endpoint (http)</option>
            </select>
          )}
        </Field>
        {kind === 'http' && (
          <Field label={named ? 'Endpoint URL' : 'Default endpoint URL'} error={errorFor(error, 'url')}>
            {(p) => <input {...p} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />}
          </Field>
        )}
        {named && (
          <Field label="Token prefixes" error={errorFor(error, 'token_prefixes')} hint="tokens starting with these go here, e.g. tok_acme">
            {(p) => <input {...p} value={prefixes} onChange={(e) => setPrefixes(e.target.value)} />}
          </Field>
        )}
      </div>
      <FormNote error={error && !['name', 'type', 'url', 'token_prefixes'].some((p) => errorFor(error, p)) ? { ...error, param: null } : null} />
      <button type="submit" disabled={busy}>
        {named ? 'Save named gateway' : 'Save default gateway'}
      </button>
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
    </form>
  );
}
