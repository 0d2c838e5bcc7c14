import { get, post } from '../api.ts';
import { Badge, ErrorNote, Loading, Section, useLoad } from '../components.tsx';
import { EmailTable } from '../email-table.tsx';
import { cardLabel, dateTime, humanize, money, probability } from '../format.ts';
import { OutboxUnavailable, outboxMissing } from '../outbox-unavailable.tsx';
import { Link } from '../router.tsx';
import type { ChurnPrediction, Customer, Email, List, Payment } from '../types.ts';

// A customer: who they are, the churn model's score and its drivers (POST /api/predict/churn), their
// payments, the rescues among them, and the emails they were sent.

const paymentPath = (id: string) => `/dashboard/payments/${encodeURIComponent(id)}`;

export function CustomerDetail({ id }: { id: string }) {
  const enc = encodeURIComponent(id);
  const customer = useLoad(() => get<Customer>(`/v2/customers/${enc}`), [id]);
  const churn = useLoad(() => post<{ prediction: ChurnPrediction }>('/api/predict/churn', { customer: id }).then((r) => r.prediction), [id]);
  const payments = useLoad(() => get<List<Payment>>(`/v2/payments?customer=${enc}&limit=100`), [id]);
  const emails = useLoad(() => get<List<Email>>(`/v2/emails?customer=${enc}&limit=100`), [id]);

  if (customer.error) return <ErrorNote error={customer.error} />;
  if (!customer.data) return <Loading />;
  const c = customer.data;
  const list = payments.data?.data ?? [];
  const rescues = list.filter((p) => ['active', 'recovered', 'exhausted', 'cancelled'].includes(p.auto_rescue.status));

  return (
    <>
      <p>
        <Link to="/dashboard/customers">← Customers</Link>
      </p>
      <h1>{c.name || c.email || 'Unnamed customer'}</h1>
      <dl className="facts">
        <dt>Email</dt>
        <dd>{c.email ?? '—'}</dd>
        <dt>Customer id</dt>
        <dd>
          <code>{c.id}</code>
        </dd>
        <dt>Time zone</dt>
        <dd>{c.timezone}</dd>
        <dt>Since</dt>
        <dd>{dateTime(c.created_at)}</dd>
      </dl>

      <Section title="Churn risk">
        {churn.error ? (
          <ErrorNote error={churn.error} />
        ) : !churn.data ? (
          <Loading />
        ) : (
          <>
            <p>
              Churn score <strong data-testid="churn-score">{churn.data.score}</strong> of 100: a {probability(churn.data.churnProbability)} chance this customer is lost within 30 days through failed payments.
            </p>
            <h3 className="small">What drives it</h3>
            <ul data-testid="churn-drivers">
              {churn.data.drivers.map((d) => (
                <li key={d.feature}>
                  {d.description} <span className="muted small">({d.effect > 0 ? 'raises' : 'lowers'} the risk)</span>
                </li>
              ))}
            </ul>
            <p className="muted small">{churn.data.reasoning}</p>
          </>
        )}
      </Section>

      <Section title="Payments">
        <ErrorNote error={payments.error} />
        {payments.loading && !payments.data ? <Loading /> : list.length === 0 ? <p className="muted">No payments.</p> : <PaymentRows payments={list} label="Customer's payments" />}
      </Section>

      <Section title="Rescues">
        {rescues.length === 0 ? (
          <p className="muted">No rescues.</p>
        ) : (
          <div className="table-scroll">
            <table aria-label="Customer's rescues">
              <thead>
                <tr>
                  <th scope="col">Payment</th>
                  <th scope="col">Rescue</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">First decline</th>
                  <th scope="col">Ended</th>
                </tr>
              </thead>
              <tbody>
                {rescues.map((p) => (
                  <tr key={p.id} data-payment={p.id}>
                    <th scope="row">
                      <Link to={paymentPath(p.id)}>{money(p.amount, p.currency)}</Link>
                    </th>
                    <td>
                      <Badge status={p.auto_rescue.status} />
                    </td>
                    <td className="num">{p.auto_rescue.attempts_made}</td>
                    <td>{p.rescue_history[0]?.failure_code ? <code>{p.rescue_history[0].failure_code}</code> : '—'}</td>
                    <td>{dateTime(p.auto_rescue.recovered_at ?? p.auto_rescue.ended_at ?? p.auto_rescue.cancelled_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title="Emails">
        {outboxMissing(emails.error) ? (
          <OutboxUnavailable />
        ) : emails.error ? (
          <ErrorNote error={emails.error} />
        ) : emails.loading && !emails.data ? (
          <Loading />
        ) : emails.data && emails.data.data.length === 0 ? (
          <p className="muted">No emails to this customer.</p>
        ) : emails.data ? (
          <EmailTable emails={emails.data.data} label="Emails to this customer" showPayment />
        ) : null}
      </Section>
    </>
  );
}

/** Payments as a merchant reads them: amount, status, rescue, the card by brand and last 4. */
export function PaymentRows({ payments, label }: { payments: Payment[]; label: string }) {
  return (
    <div className="table-scroll">
      <table aria-label={label}>
        <thead>
          <tr>
            <th scope="col" className="num">Amount</th>
            <th scope="col">Status</th>
            <th scope="col">Rescue</th>
            <th scope="col">Card</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {payments.map((p) => (
            <tr key={p.id} data-payment={p.id}>
              <td className="num">
                <Link to={paymentPath(p.id)}>{money(p.amount, p.currency)}</Link>
              </td>
              <td>
                <Badge status={p.status} />
              </td>
              <td>{humanize(p.auto_rescue.status)}</td>
              <td data-field="card">{cardLabel(p.payment_method_details)}</td>
              <td>{dateTime(p.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
