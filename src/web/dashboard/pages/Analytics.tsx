import { useEffect, useState, type ReactNode } from 'react';
import { DEFINITIONS } from '../../../domain/analytics.ts';
import { get, query } from '../api.ts';
import { browserNow } from '../clock.ts';
import { ChartWithTable } from '../chart.tsx';
import { ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { ControlGroup } from '../control-group.tsx';
import { customerLabel, customerPath } from '../customer-name.tsx';
import { money, percent } from '../format.ts';
import { useRefresh } from '../refresh.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { DashboardJson } from '../types.ts';

// /dashboard/analytics: GET /api/dashboard for a period and currency, every figure with its chart,
// its table and its definition (the same sentences the API documents, src/domain/analytics.ts).
// The period and currency live in the URL; the figures refresh every 30 s and when the tab regains focus.

const isoDate = (d: Date) => d.toISOString().slice(0, 10);

function defaultPeriod(): { from: string; to: string } {
  const now = browserNow();
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  return { from: isoDate(from), to: isoDate(to) };
}

/** One call when the currency is known; without one, the first currency the period has, then its figures. */
async function loadAnalytics(from: string, to: string, wanted: string) {
  const base = { from, to, interval: 'month' };
  let data = await get<DashboardJson>(`/api/dashboard${query({ ...base, currency: wanted || null })}`);
  const currency = wanted || data.currencies[0] || '';
  if (currency && !wanted) data = await get<DashboardJson>(`/api/dashboard${query({ ...base, currency })}`);
  return { data, currencies: data.currencies.includes(currency) || !currency ? data.currencies : [...data.currencies, currency], currency, at: browserNow() };
}

export function Analytics() {
  const loc = useLocation();
  const fallback = defaultPeriod();
  const from = loc.search.get('from') ?? fallback.from;
  const to = loc.search.get('to') ?? fallback.to;
  const wanted = loc.search.get('currency') ?? '';
  const { data, error, loading, reload } = useLoad(() => loadAnalytics(from, to, wanted), [from, to, wanted]);
  useRefresh(reload);
  useEffect(() => {
    if (!wanted && data?.currency) navigate(`/dashboard/analytics${query({ from, to, currency: data.currency })}`, { replace: true });
  }, [wanted, data?.currency, from, to]);
  const go = (p: { from?: string; to?: string; currency?: string }) => navigate(`/dashboard/analytics${query({ from, to, currency: wanted, ...p })}`, { replace: true });

  return (
    <>
      <h1>Analytics</h1>
      <form className="toolbar" aria-label="Period and currency" onSubmit={(e) => e.preventDefault()}>
        <label>
          From
          <input type="date" value={from} onChange={(e) => e.target.value && go({ from: e.target.value })} />
        </label>
        <label>
          To (not included)
          <input type="date" value={to} onChange={(e) => e.target.value && go({ to: e.target.value })} />
        </label>
        <label>
          Currency
          <select value={data?.currency ?? wanted} onChange={(e) => go({ currency: e.target.value })}>
            {(data?.currencies.length ? data.currencies : ['']).map((c) => (
              <option key={c} value={c}>
                {c || 'None yet'}
              </option>
            ))}
          </select>
        </label>
      </form>
      <p className="muted small">
        {DEFINITIONS.period}{' '}
        {data && (
          <span aria-live="polite" data-testid="updated-at">
            Updated {data.at.toLocaleTimeString()}.
          </span>
        )}
      </p>
      <ErrorNote error={error} />
      {loading && !data ? <Loading /> : data ? <Figures d={data.data} currency={data.currency} /> : null}
    </>
  );
}

function Figures({ d, currency }: { d: DashboardJson; currency: string }) {
  const totals = d.lift.totals.find((t) => t.currency === currency);
  const m = (n: number) => (currency ? money(n, currency) : String(n));
  const days = (n: number | null) => (n === null ? '—' : `${n.toLocaleString(undefined, { maximumFractionDigits: 2 })} days`);
  return (
    <>
      <div className="tiles">
        <Tile id="recovery-rate" label="Recovery rate (by count)" value={percent(totals?.recoveryRate)} note={totals ? `${totals.failedRecoveredCount} of ${totals.failedCount} failed payments` : 'No failed payments'} />
        <Tile id="recovery-rate-amount" label="Recovery rate (by amount)" value={percent(totals?.recoveryRateByAmount)} note={totals ? `${m(totals.failedRecoveredRevenue)} of ${m(totals.failedRevenue)}` : ''} />
        <Tile id="recovered-revenue" label="Recovered revenue" value={m(totals?.recoveredRevenue ?? 0)} note={`${totals?.recoveredCount ?? 0} payments recovered in the period`} />
        <Tile id="average-days" label="Average days to recover" value={days(d.averageDaysToRecover)} note={`over ${d.recoveredInPeriod} recoveries`} />
        <Tile id="median-days" label="Median days to recover" value={days(d.medianDaysToRecover)} />
        <Tile id="lift" label="Lift" value={percent(totals?.liftPercent)} note="recovered ÷ paid at the first try" />
      </div>
      <dl className="definitions small muted">
        <dt>Recovery rate</dt>
        <dd data-testid="definition-recovery-rate">
          {DEFINITIONS.recoveryRate} {DEFINITIONS.recoveryRateByAmount}
        </dd>
        <dt>Days to recover</dt>
        <dd>{DEFINITIONS.daysToRecover}</dd>
        <dt>Lift</dt>
        <dd>{DEFINITIONS.lift}</dd>
      </dl>

      <Section title="MRR recovered">
        <p className="muted small">{DEFINITIONS.mrrRecovered}</p>
        <ChartWithTable
          title="MRR recovered per month"
          spec={{ rows: d.mrrRecovered, x: 'month', y: 'recoveredRevenue', label: 'Recovered', format: m }}
          table={
            <Table label="MRR recovered per month" head={['Month', 'Currency', 'Payments recovered', 'Recovered']} numeric={2} empty="Nothing recovered in the period.">
              {d.mrrRecovered.map((r) => (
                <tr key={`${r.month}-${r.currency}`} data-month={r.month}>
                  <th scope="row">{r.month}</th>
                  <td>{r.currency}</td>
                  <td className="num">{r.recoveredCount}</td>
                  <td className="num" data-field="recovered">{money(r.recoveredRevenue, r.currency)}</td>
                </tr>
              ))}
            </Table>
          }
        />
      </Section>

      <Section title="Retry success by attempt">
        <p className="muted small">{DEFINITIONS.retrySuccessByAttempt}</p>
        <ChartWithTable
          title="Success rate by attempt number"
          spec={{ rows: d.retrySuccessByAttempt.map((r) => ({ ...r, name: r.attempt === 1 ? 'First' : `Retry ${r.attempt - 1}`, rate: r.successRate ?? 0 })), x: 'name', y: 'rate', label: 'Success rate', format: (v) => `${v}%` }}
          table={
            <Table label="Retry success by attempt" head={['Attempt', 'Made', 'Succeeded', 'Success rate']} numeric={3} empty="No attempts in the period.">
              {d.retrySuccessByAttempt.map((r) => (
                <tr key={r.attempt} data-attempt={r.attempt}>
                  <th scope="row">{r.attempt === 1 ? '1 (first charge)' : `${r.attempt} (retry ${r.attempt - 1})`}</th>
                  <td className="num" data-field="made">{r.made}</td>
                  <td className="num" data-field="succeeded">{r.succeeded}</td>
                  <td className="num" data-field="rate">{percent(r.successRate)}</td>
                </tr>
              ))}
            </Table>
          }
        />
      </Section>

      <Section title="Recovery by decline">
        <p className="muted small">{DEFINITIONS.recoveryByDeclineCode}</p>
        <ChartWithTable
          title="Recovery rate by decline code"
          spec={{ rows: d.recoveryByDeclineCode.map((r) => ({ ...r, rate: r.recoveryRate ?? 0 })), x: 'declineCode', y: 'rate', label: 'Recovery rate', format: (v) => `${v}%`, horizontal: true }}
          table={
            <Table label="Recovery by decline code" head={['Decline code', 'Category', 'Failed', 'Recovered', 'Recovery rate']} numeric={3} empty="No failed payments in the period.">
              {d.recoveryByDeclineCode.map((r) => (
                <tr key={r.declineCode} data-code={r.declineCode}>
                  <th scope="row">
                    <code>{r.declineCode}</code>
                  </th>
                  <td>{r.declineCategory}</td>
                  <td className="num" data-field="failed">{r.failed}</td>
                  <td className="num" data-field="recovered">{r.recovered}</td>
                  <td className="num" data-field="rate">{percent(r.recoveryRate)}</td>
                </tr>
              ))}
            </Table>
          }
        />
        <ChartWithTable
          title="Recovery rate by decline category"
          spec={{ rows: d.recoveryByDeclineCategory.map((r) => ({ ...r, rate: r.recoveryRate ?? 0 })), x: 'declineCategory', y: 'rate', label: 'Recovery rate', format: (v) => `${v}%` }}
          table={
            <Table label="Recovery by decline category" head={['Category', 'Failed', 'Recovered', 'Recovery rate']} numeric={3} empty="No failed payments in the period.">
              {d.recoveryByDeclineCategory.map((r) => (
                <tr key={r.declineCategory} data-category={r.declineCategory}>
                  <th scope="row">{r.declineCategory}</th>
                  <td className="num" data-field="failed">{r.failed}</td>
                  <td className="num" data-field="recovered">{r.recovered}</td>
                  <td className="num" data-field="rate">{percent(r.recoveryRate)}</td>
                </tr>
              ))}
            </Table>
          }
        />
      </Section>

      <Section title="Control group">
        <p className="muted small">{DEFINITIONS.incrementalRecovery}</p>
        <ControlGroup experiment={d.experiment} />
      </Section>

      <Section title="Customers at risk">
        <p className="muted small">{DEFINITIONS.customersAtRisk}</p>
        <AtRiskTable rows={d.customersAtRisk} />
      </Section>

      <Section title="Webhook health">
        <p className="muted small">{DEFINITIONS.webhookHealth}</p>
        <dl className="facts" data-testid="webhook-health">
          <dt>Deliveries succeeded</dt>
          <dd data-field="succeeded">{d.webhookHealth.succeeded}</dd>
          <dt>Failed</dt>
          <dd data-field="failed">{d.webhookHealth.failed}</dd>
          <dt>Pending</dt>
          <dd data-field="pending">{d.webhookHealth.pending}</dd>
          <dt>Success rate</dt>
          <dd data-field="rate">{percent(d.webhookHealth.successRate)}</dd>
          <dt>Endpoints</dt>
          <dd>
            {d.webhookHealth.endpoints} ({d.webhookHealth.disabledEndpoints} disabled) · <Link to="/dashboard/webhooks">Webhooks</Link>
          </dd>
        </dl>
      </Section>
    </>
  );
}

type RiskRow = DashboardJson['customersAtRisk'][number];
type SortKey = 'customer' | 'churnScore' | 'activeRescues';

function AtRiskTable({ rows }: { rows: RiskRow[] }) {
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'churnScore', desc: true });
  if (rows.length === 0) return <p className="muted">No customer has a rescue running or one begun in the period.</p>;
  const name = (r: RiskRow) => customerLabel(r) ?? r.customer;
  const value = (r: RiskRow) => (sort.key === 'customer' ? name(r).toLowerCase() : r[sort.key]);
  const sorted = [...rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return sort.desc ? -c : c;
  });
  const header = (key: SortKey, label: string, num = false) => (
    <th scope="col" className={num ? 'num' : undefined} aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="link sort" onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== 'customer' }))}>
        {label}
        {sort.key === key ? (sort.desc ? ' ↓' : ' ↑') : ''}
      </button>
    </th>
  );
  return (
    <div className="table-scroll">
      <table aria-label="Customers at risk">
        <thead>
          <tr>
            {header('customer', 'Customer')}
            {header('churnScore', 'Churn score', true)}
            {header('activeRescues', 'Rescues running', true)}
            <th scope="col">Main driver</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((r) => (
            <tr key={r.customer} data-customer={r.customer}>
              <th scope="row">
                <Link to={customerPath(r.customer)}>{name(r)}</Link>
                {r.name && r.email && <div className="muted small">{r.email}</div>}
              </th>
              <td className="num" data-field="score">{r.churnScore}</td>
              <td className="num">{r.activeRescues}</td>
              <td className="small wrap">{r.topDriver ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `numeric`: how many of the last columns hold numbers (right-aligned). */
function Table({ label, head, numeric, empty, children }: { label: string; head: string[]; numeric: number; empty: string; children: ReactNode[] }) {
  if (children.length === 0) return <p className="muted">{empty}</p>;
  return (
    <table aria-label={label}>
      <thead>
        <tr>
          {head.map((h, i) => (
            <th key={h} scope="col" className={i >= head.length - numeric ? 'num' : undefined}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

function Tile({ id, label, value, note }: { id: string; label: string; value: string; note?: string }) {
  return (
    <div className="tile" role="group" aria-labelledby={`${id}-label`}>
      <div className="tile-label" id={`${id}-label`}>
        {label}
      </div>
      <div className="tile-value" data-testid={id}>
        {value}
      </div>
      {note && <div className="tile-note">{note}</div>}
    </div>
  );
}
