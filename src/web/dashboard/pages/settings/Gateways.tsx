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
      {mode === 'test' && list.data && <TestCharge gateways={list.data.data.filter((g) => g.type === 'http').map((g) => g.name)} />}
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
  const [signing, setSigning] = useState('');
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
      const body = { type: kind, ...(kind === 'http' ? { url, ...(signing.trim() ? { secret: signing.trim() } : {}) } : {}), ...(named ? { name, ...(token_prefixes.length ? { token_prefixes } : {}) } : {}) };
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
        {kind === 'http' && (
          <Field label={named ? 'Signing secret (optional)' : 'Default signing secret (optional)'} error={errorFor(error, 'secret')} hint="empty: Rescue makes one and shows it once">
            {(p) => <input {...p} type="password" autoComplete="off" value={signing} onChange={(e) => setSigning(e.target.value)} />}
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

interface TestChargeJson {
  status: 'succeeded' | 'failed' | 'unknown';
  transaction_id: string | null;
  decline_code: string | null;
  message: string | null;
  latency_ms: number;
}

/** One signed test charge to an http gateway (test mode only), and what it answered. */
function TestCharge({ gateways }: { gateways: string[] }) {
  const [name, setName] = useState(gateways[0] ?? '');
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (gateways.length === 0) return <p className="muted small">Add an http gateway to send it a test charge.</p>;
  const chosen = gateways.includes(name) ? name : gateways[0]!;
  const send = async () => {
    setBusy(true);
    setResult(null);
    try {
      const r = await post<TestChargeJson>('/v2/settings/gateways/test_charge', chosen === 'default' ? {} : { gateway: chosen });
      const text =
        r.status === 'succeeded'
          ? `Succeeded in ${r.latency_ms} ms: transaction ${r.transaction_id}.`
          : r.status === 'failed'
            ? `Declined in ${r.latency_ms} ms: ${r.decline_code}${r.message ? ` — ${r.message}` : ''}.`
            : `No usable answer: ${r.message}.`;
      setResult({ ok: r.status !== 'unknown', text });
    } catch (err) {
      setResult({ ok: false, text: formError(err).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="form-stack" aria-label="Test charge" role="group">
      <h3>Send a test charge</h3>
      <p className="muted small">One signed charge of 1.00 USD with the token pm_rescue_test_charge, tied to no payment: your endpoint shows whether it verifies Rescue's signature and what it answers.</p>
      <div className="actions">
        <Field label="Gateway to test">
          {(p) => (
            <select {...p} value={chosen} onChange={(e) => setName(e.target.value)}>
              {gateways.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="button" onClick={send} disabled={busy}>
          Send a test charge
        </button>
      </div>
      {result && (
        <p className={result.ok ? 'notice' : 'error'} role={result.ok ? 'status' : 'alert'} data-field="test-charge">
          {result.text}
        </p>
      )}
    </div>
  );
}
