import { get, query } from '../api.ts';
import { Badge, ErrorNote, FilterSelect, Loading, Pager, useLoad } from '../components.tsx';
import { CustomerName } from '../customer-name.tsx';
import { cardLabel, dateTime, humanize, money } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { List, Payment } from '../types.ts';

const STATUSES = ['requires_rescue', 'rescue_in_progress', 'succeeded', 'failed', 'rescue_cancelled', 'processing'] as const;
const PAGE = 20;

// Filter and cursors live in the URL (?status=…&after=a,b: the starting_after of every page so far),
// so Back, reload and shared links work, and Previous needs no ending_before.
export function Payments() {
  const loc = useLocation();
  const status = loc.search.get('status') ?? '';
  const cursors = (loc.search.get('after') ?? '').split(',').filter(Boolean);
  const after = cursors.at(-1) ?? '';
  const pageNo = cursors.length + 1;
  const { data, error, loading } = useLoad(
    () => get<List<Payment>>(`/v2/payments${query({ status, limit: PAGE, starting_after: after })}`),
    [status, after],
  );

  const go = (params: Record<string, string | number | null>) => navigate(`/dashboard/payments${query(params)}`);

  return (
    <>
      <h1>Payments</h1>
      <div className="toolbar">
        <FilterSelect label="Status" value={status} options={STATUSES.map((s) => [s, humanize(s)] as const)} onChange={(v) => go({ status: v })} />
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">No payments{status ? ` with status ${humanize(status)}` : ''}.</p>
      ) : data ? (
        <div className="table-scroll">
          <table aria-label="Payments">
            <thead>
              <tr>
                <th scope="col">Payment</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col">Customer</th>
                <th scope="col">Card</th>
                <th scope="col">Status</th>
                <th scope="col">Rescue</th>
                <th scope="col">Decline</th>
                <th scope="col">Next retry</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((p) => (
                <tr key={p.id} data-payment={p.id}>
                  <td>
                    <Link to={`/dashboard/payments/${encodeURIComponent(p.id)}`}>
                      <code>{p.id}</code>
                    </Link>
                  </td>
                  <td className="num">{money(p.amount, p.currency)}</td>
                  <td data-field="customer">
                    <CustomerName id={p.customer} />
                  </td>
                  <td data-field="card">{cardLabel(p.payment_method_details)}</td>
                  <td>
                    <Badge status={p.status} />
                  </td>
                  <td>
                    {humanize(p.auto_rescue.status)}
                    {p.auto_rescue.max_retries !== null && (
                      <span className="muted">
                        {' '}
                        · {p.auto_rescue.attempts_made}/{p.auto_rescue.max_retries + 1} attempts
                      </span>
                    )}
                  </td>
                  <td>{p.failure_code ? <code>{p.failure_code}</code> : '—'}</td>
                  <td>{dateTime(p.rescue_schedule?.next_retry_at)}</td>
                  <td>{dateTime(p.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data && (
        <Pager
          page={pageNo}
          hasMore={data.has_more}
          onPrevious={() => go({ status: status || null, after: cursors.slice(0, -1).join(',') || null })}
          onNext={() => go({ status: status || null, after: [...cursors, data.data.at(-1)?.id ?? ''].join(',') })}
        />
      )}
    </>
  );
}
