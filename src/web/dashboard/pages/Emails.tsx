import { get, query } from '../api.ts';
import { ErrorNote, FilterSelect, Loading, Pager, useLoad } from '../components.tsx';
import { EMAIL_KINDS, EMAIL_STATUSES, kindLabel } from '../email-kinds.ts';
import { EmailTable } from '../email-table.tsx';
import { OutboxUnavailable, outboxMissing } from '../outbox-unavailable.tsx';
import { navigate, useLocation } from '../router.tsx';
import type { Email, List } from '../types.ts';

const PAGE = 20;

// The outbox: emails Rescue wrote to customers (GET /v2/emails), filtered by kind and status.
// Filters and cursors live in the URL, as on the Payments page, so Back and reload work.
export function Emails() {
  const loc = useLocation();
  const kind = loc.search.get('kind') ?? '';
  const status = loc.search.get('status') ?? '';
  const cursors = (loc.search.get('after') ?? '').split(',').filter(Boolean);
  const after = cursors.at(-1) ?? '';
  const { data, error, loading } = useLoad(() => get<List<Email>>(`/v2/emails${query({ kind, status, limit: PAGE, starting_after: after })}`), [kind, status, after]);

  const go = (params: Record<string, string | null>) => navigate(`/dashboard/emails${query(params)}`);
  const filters = { kind: kind || null, status: status || null };

  if (outboxMissing(error)) {
    return (
      <>
        <h1>Emails</h1>
        <OutboxUnavailable />
      </>
    );
  }
  return (
    <>
      <h1>Emails</h1>
      <p className="muted">What Rescue sent, or will send, to your customers about their payments. Open an email to read it.</p>
      <div className="toolbar">
        <FilterSelect label="Kind" value={kind} options={EMAIL_KINDS.map((k) => [k, kindLabel(k)] as const)} onChange={(v) => go({ ...filters, kind: v })} />
        <FilterSelect label="Status" value={status} options={EMAIL_STATUSES.map((s) => [s, s] as const)} onChange={(v) => go({ ...filters, status: v })} />
      </div>
      <ErrorNote error={error} />
      {loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">{kind || status ? 'No emails match these filters.' : 'No emails yet.'}</p>
      ) : data ? (
        <EmailTable emails={data.data} label="Emails" />
      ) : null}
      {data && (
        <Pager
          page={cursors.length + 1}
          hasMore={data.has_more}
          onPrevious={() => go({ ...filters, after: cursors.slice(0, -1).join(',') || null })}
          onNext={() => go({ ...filters, after: [...cursors, data.data.at(-1)?.id ?? ''].join(',') })}
        />
      )}
    </>
  );
}
