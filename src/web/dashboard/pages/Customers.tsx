import { useState, type FormEvent } from 'react';
import { get, query } from '../api.ts';
import { ErrorNote, Loading, Pager, useLoad } from '../components.tsx';
import { customerPath } from '../customer-name.tsx';
import { dateTime } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { Customer, List } from '../types.ts';

const PAGE = 20;

// The search and the cursors live in the URL (?q=…&after=a,b), as on the payments page.
export function Customers() {
  const loc = useLocation();
  const q = loc.search.get('q') ?? '';
  const cursors = (loc.search.get('after') ?? '').split(',').filter(Boolean);
  const after = cursors.at(-1) ?? '';
  const [text, setText] = useState(q);
  const { data, error, loading } = useLoad(() => get<List<Customer>>(`/v2/customers${query({ q, limit: PAGE, starting_after: after })}`), [q, after]);
  const go = (params: Record<string, string | null>) => navigate(`/dashboard/customers${query(params)}`);
  const search = (e: FormEvent) => {
    e.preventDefault();
    go({ q: text.trim() || null });
  };

  return (
    <>
      <h1>Customers</h1>
      <form className="toolbar" role="search" onSubmit={search}>
        <label>
          Search customers
          <input type="search" value={text} placeholder="Email, name or cus_ id" onChange={(e) => setText(e.target.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">{q ? `No customer matches “${q}”.` : 'No customers yet.'}</p>
      ) : data ? (
        <div className="table-scroll">
          <table aria-label="Customers">
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">Email</th>
                <th scope="col">Time zone</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.data.map((c) => (
                <tr key={c.id} data-customer={c.id}>
                  <th scope="row">
                    <Link to={customerPath(c.id)}>{c.name || c.email || 'Unnamed customer'}</Link>
                  </th>
                  <td>{c.email ?? '—'}</td>
                  <td>{c.timezone}</td>
                  <td>{dateTime(c.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data && (
        <Pager
          page={cursors.length + 1}
          hasMore={data.has_more}
          onPrevious={() => go({ q: q || null, after: cursors.slice(0, -1).join(',') || null })}
          onNext={() => go({ q: q || null, after: [...cursors, data.data.at(-1)?.id ?? ''].join(',') })}
        />
      )}
    </>
  );
}
