import type { ReactNode } from 'react';
import { get, query, type Mode } from '../api.ts';
import { browserNow } from '../clock.ts';
import { ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { dateTime, money, percent } from '../format.ts';
import { Link } from '../router.tsx';
import { ControlGroup } from '../control-group.tsx';
import type { DashboardJson, Lift, List, Payment } from '../types.ts';

const IN_PROGRESS = ['requires_rescue', 'rescue_in_progress'] as const;
/** Counting pages of 100 is plenty for a glance; beyond it the figure reads "1,000+". */
const COUNT_PAGES = 10;

/** How many payments have this status, reading the list a page at a time (there is no count endpoint). */
async function countPayments(status: string): Promise<{ n: number; more: boolean }> {
  let n = 0;
  let after: string | undefined;
  for (let page = 0; page < COUNT_PAGES; page++) {
    const list = await get<List<Payment>>(`/v2/payments${query({ status, limit: 100, starting_after: after })}`);
    n += list.data.length;
    if (!list.has_more) return { n, more: false };
    after = list.data.at(-1)?.id;
  }
  return { n, more: true };
}

async function loadOverview() {
  const yearAgo = browserNow();
  yearAgo.setMonth(yearAgo.getMonth() - 11, 1);
  yearAgo.setHours(0, 0, 0, 0);
  const [dashboard, lift, ...counts] = await Promise.all([
    get<DashboardJson>('/api/dashboard'),
    get<{ success: true } & Lift>(`/api/recovery/lift${query({ interval: 'month', from: Math.floor(yearAgo.getTime() / 1000) })}`),
    ...IN_PROGRESS.map(countPayments),
  ]);
  const inProgress = { n: counts.reduce((s, c) => s + c.n, 0), more: counts.some((c) => c.more) };
  return { dashboard, lift, inProgress };
}

export function Overview({ mode }: { mode: Mode }) {
  const { data, error, loading } = useLoad(loadOverview, []);
  if (error) return <ErrorNote error={error} />;
  if (loading || !data) return <Loading />;
  const { dashboard, lift, inProgress } = data;
  const totals = dashboard.lift.totals;

  return (
    <>
      <h1>Overview</h1>
      <p className="muted">
        {mode === 'live' ? 'Live' : 'Test'} mode, {dateTime(dashboard.lift.from)} to {dateTime(dashboard.lift.to)}.
      </p>
      <div className="tiles">
        <Tile label="Rescues in progress" id="in-progress" value={`${inProgress.n.toLocaleString()}${inProgress.more ? '+' : ''}`}>
          <Link to="/dashboard/payments?status=requires_rescue">See them</Link>
        </Tile>
        {totals.length === 0 && <Tile label="Recovered revenue" id="recovered-none" value="Nothing yet" />}
        {totals.map((t) => (
          <Tile key={t.currency} label={`Recovered revenue (${t.currency})`} id={`recovered-${t.currency}`} value={money(t.recoveredRevenue, t.currency)}>
            <span data-testid={`recovered-count-${t.currency}`}>{t.recoveredCount.toLocaleString()}</span> payment{t.recoveredCount === 1 ? '' : 's'} recovered
          </Tile>
        ))}
      </div>

      <Section title="Recovery by currency" actions={<Link to="/dashboard/analytics">All figures in Analytics</Link>}>
        {totals.length === 0 ? (
          <p className="muted">No failed or recovered payments in these 30 days.</p>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Currency</th>
                  <th scope="col" className="num">Recovered</th>
                  <th scope="col" className="num">Payments recovered</th>
                  <th scope="col" className="num">Failed first attempts</th>
                  <th scope="col" className="num">Recovery rate</th>
                  <th scope="col" className="num">Lift</th>
                </tr>
              </thead>
              <tbody>
                {totals.map((t) => (
                  <tr key={t.currency} data-currency={t.currency}>
                    <th scope="row">{t.currency}</th>
                    <td className="num">{money(t.recoveredRevenue, t.currency)}</td>
                    <td className="num" data-field="recovered-count">{t.recoveredCount}</td>
                    <td className="num" data-field="failed-count">{t.failedCount}</td>
                    <td className="num" data-field="recovery-rate">{percent(t.recoveryRate)}</td>
                    <td className="num" data-field="lift">{percent(t.liftPercent)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <p className="muted small">
          Recovery rate: payments whose first attempt failed and that were later paid. Lift: recovered revenue as a share of revenue paid at the first try.
        </p>
      </Section>

      <Section title="Lift by month">
        <LiftTable lift={lift} />
      </Section>

      <Section title="Control group">
        <ControlGroup experiment={dashboard.experiment} />
      </Section>
    </>
  );
}

function Tile({ label, value, id, children }: { label: string; value: string; id: string; children?: ReactNode }) {
  return (
    <div className="tile" role="group" aria-labelledby={`${id}-label`}>
      <div className="tile-label" id={`${id}-label`}>
        {label}
      </div>
      <div className="tile-value" data-testid={id}>
        {value}
      </div>
      {children && <div className="tile-note">{children}</div>}
    </div>
  );
}

function LiftTable({ lift }: { lift: Lift }) {
  const rows = lift.periods.flatMap((p) => p.currencies.map((c) => ({ start: p.start, ...c })));
  if (rows.length === 0) return <p className="muted">No revenue recorded in the last 12 months.</p>;
  const month = (iso: string) => new Intl.DateTimeFormat(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(iso));
  return (
    <div className="table-scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col">Currency</th>
            <th scope="col" className="num">Paid at first try</th>
            <th scope="col" className="num">Recovered</th>
            <th scope="col" className="num">Lift</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.start}-${r.currency}`}>
              <td>{month(r.start)}</td>
              <td>{r.currency}</td>
              <td className="num">{money(r.organicRevenue, r.currency)}</td>
              <td className="num">{money(r.recoveredRevenue, r.currency)}</td>
              <td className="num">{percent(r.liftPercent)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
