import { useState } from 'react';
import { ApiError, get, query } from '../api.ts';
import { Badge, ErrorNote, Loading, Pager, useLoad } from '../components.tsx';
import { dateTime, humanize } from '../format.ts';
import { Link } from '../router.tsx';
import type { Email, List } from '../types.ts';

const PAGE = 20;

// The outbox: emails Rescue wrote to customers (GET /v2/emails). On a Rescue without the outbox
// the API answers 404, and the page says so instead of failing.
export function Emails() {
  const [cursors, setCursors] = useState<string[]>([]);
  const after = cursors.at(-1);
  const { data, error, loading } = useLoad(() => get<List<Email>>(`/v2/emails${query({ limit: PAGE, starting_after: after })}`), [after]);

  if (error instanceof ApiError && error.status === 404) {
    return (
      <>
        <h1>Emails</h1>
        <p className="muted" role="status" data-testid="outbox-unavailable">
          The email outbox is not available on this Rescue.
        </p>
      </>
    );
  }
  return (
    <>
      <h1>Emails</h1>
      <p className="muted">What Rescue sent, or will send, to your customers about their payments. Open a row to read the email.</p>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">No emails yet.</p>
      ) : data ? (
        <table aria-label="Emails">
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">To</th>
              <th scope="col">Email</th>
              <th scope="col">Kind</th>
              <th scope="col">Status</th>
              <th scope="col">Payment</th>
            </tr>
          </thead>
          <tbody>
            {data.data.map((e) => (
              <tr key={e.id} data-email={e.id}>
                <td>{dateTime(e.created_at)}</td>
                <td>{e.to}</td>
                <td>
                  <details>
                    <summary>{e.subject}</summary>
                    <pre className="email-text">{e.text}</pre>
                  </details>
                </td>
                <td>{humanize(e.kind)}</td>
                <td>
                  <Badge status={e.status} />
                  {e.status === 'sent' && <span className="muted small"> {dateTime(e.sent_at)}</span>}
                  {e.error && <span className="error small"> {e.error}</span>}
                </td>
                <td>{e.payment ? <Link to={`/dashboard/payments/${encodeURIComponent(e.payment)}`}><code>{e.payment}</code></Link> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data && <Pager page={cursors.length + 1} hasMore={data.has_more} onPrevious={() => setCursors(cursors.slice(0, -1))} onNext={() => setCursors([...cursors, data.data.at(-1)?.id ?? ''])} />}
    </>
  );
}
