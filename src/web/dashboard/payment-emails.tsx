import { get } from './api.ts';
import { ErrorNote, Loading, Section, useLoad } from './components.tsx';
import { EmailTable } from './email-table.tsx';
import { OutboxUnavailable, outboxMissing } from './outbox-unavailable.tsx';
import type { Email, List } from './types.ts';

/** A payment's dunning emails (GET /v2/emails?payment=…), oldest first: the order the customer read them. */
export function PaymentEmails({ payment }: { payment: string }) {
  // One payment has at most one email of each kind (unique per payment and kind), so one page holds them all.
  const { data, error, loading } = useLoad(() => get<List<Email>>(`/v2/emails?payment=${encodeURIComponent(payment)}&limit=100`), [payment]);
  return (
    <Section title="Emails to the customer">
      {outboxMissing(error) ? (
        <OutboxUnavailable />
      ) : error ? (
        <ErrorNote error={error} />
      ) : loading && !data ? (
        <Loading />
      ) : data && data.data.length === 0 ? (
        <p className="muted">No emails about this payment.</p>
      ) : data ? (
        <EmailTable emails={[...data.data].reverse()} label="Emails about this payment" showPayment={false} />
      ) : null}
    </Section>
  );
}
