import { get } from '../api.ts';
import { ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { kindLabel, transportLabel } from '../email-kinds.ts';
import { CustomerName } from '../customer-name.tsx';
import { EmailStatus, paymentPath } from '../email-table.tsx';
import { dateTime } from '../format.ts';
import { Link } from '../router.tsx';
import type { Email } from '../types.ts';
import { OutboxUnavailable, outboxMissing } from '../outbox-unavailable.tsx';

// One email as the customer got it. The text is React text (escaped). The HTML is shown only inside
// an iframe with an empty `sandbox` and `srcdoc`: an opaque origin with no scripts, forms, popups or
// top navigation, so even a template bug that let markup through could not reach this page, its
// session or its API. The frame also inherits the dashboard's CSP: nothing fetched from elsewhere,
// no <style> element, but inline style attributes, which is how emails are styled.
export function EmailDetail({ id }: { id: string }) {
  const { data: e, error, loading } = useLoad(() => get<Email>(`/v2/emails/${encodeURIComponent(id)}`), [id]);
  const back = (
    <p>
      <Link to="/dashboard/emails">← Emails</Link>
    </p>
  );
  if (outboxMissing(error)) {
    return (
      <>
        {back}
        <OutboxUnavailable />
      </>
    );
  }
  if (error) {
    return (
      <>
        {back}
        <ErrorNote error={error} />
      </>
    );
  }
  if (loading && !e) return <Loading />;
  if (!e) return null;
  return (
    <>
      {back}
      <h1 data-testid="email-subject">{e.subject}</h1>
      <p className="muted">
        <code>{e.id}</code> · {kindLabel(e.kind)}
      </p>
      <Section title="Delivery">
        <dl className="facts">
          <dt>Kind</dt>
          <dd data-testid="email-kind">{kindLabel(e.kind)}</dd>
          <dt>Status</dt>
          <dd data-testid="email-status">
            <EmailStatus email={e} />
          </dd>
          <dt>To</dt>
          <dd data-testid="email-to">{e.to}</dd>
          <dt>Payment</dt>
          <dd>
            {e.payment ? (
              <Link to={paymentPath(e.payment)}>
                <code>{e.payment}</code>
              </Link>
            ) : (
              '—'
            )}
          </dd>
          <dt>Customer</dt>
          <dd>
            <CustomerName id={e.customer} />
          </dd>
          <dt>Created</dt>
          <dd>{dateTime(e.created_at)}</dd>
          <dt>Sent through</dt>
          <dd>{transportLabel(e)}</dd>
          <dt>Send attempts</dt>
          <dd>{e.attempts}</dd>
        </dl>
      </Section>
      <Section title="Text version">
        <pre className="email-text" data-testid="email-text">
          {e.text}
        </pre>
      </Section>
      <Section title="HTML version">
        <iframe className="email-html" title={`HTML version of “${e.subject}”`} sandbox="" referrerPolicy="no-referrer" srcDoc={e.html} />
      </Section>
    </>
  );
}
