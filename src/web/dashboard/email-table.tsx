import { Badge } from './components.tsx';
import { kindLabel } from './email-kinds.ts';
import { dateTime } from './format.ts';
import { Link } from './router.tsx';
import type { Email } from './types.ts';

export const emailPath = (id: string) => `/dashboard/emails/${encodeURIComponent(id)}`;
export const paymentPath = (id: string) => `/dashboard/payments/${encodeURIComponent(id)}`;

/** Emails as rows: the subject opens the email; the payment column links to its payment. */
export function EmailTable({ emails, label, showPayment = true }: { emails: Email[]; label: string; showPayment?: boolean }) {
  return (
    <div className="table-scroll">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Kind</th>
            <th scope="col">To</th>
            <th scope="col">Subject</th>
            <th scope="col">Status</th>
            {showPayment && <th scope="col">Payment</th>}
          </tr>
        </thead>
        <tbody>
          {emails.map((e) => (
            <tr key={e.id} data-email={e.id} data-kind={e.kind} data-status={e.status}>
              <td>{dateTime(e.created_at)}</td>
              <td data-field="kind">{kindLabel(e.kind)}</td>
              <td data-field="to">{e.to}</td>
              <td data-field="subject">
                <Link to={emailPath(e.id)}>{e.subject}</Link>
              </td>
              <td data-field="status">
                <EmailStatus email={e} />
              </td>
              {showPayment && <td data-field="payment">{e.payment ? <Link to={paymentPath(e.payment)}><code>{e.payment}</code></Link> : '—'}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The status badge, with when it was sent or why it failed. */
export function EmailStatus({ email: e }: { email: Email }) {
  return (
    <>
      <Badge status={e.status} />
      {e.status === 'sent' && <span className="muted small"> {dateTime(e.sent_at)}</span>}
      {e.error && <div className="error small">{e.error}</div>}
    </>
  );
}
