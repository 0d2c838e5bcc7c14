import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EMAIL_KINDS } from '../domain/dunning.ts';
import { renderRow, type LinkSettings } from '../engine/dunning-render.ts';
import { getEmail, listEmails } from '../store/emails.ts';
import type { EmailRow } from '../store/schema.ts';
import { IdParams, ListQuery, listJson } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

// The email outbox (GET /v2/emails): every dunning email Rescue queued for the account's customers,
// sent or not. With no SMTP configured this is where they are read (the dashboard's Emails page).

export const EmailListQuery = ListQuery.extend({
  payment: z.string().min(1).max(100).optional(),
  customer: z.string().min(1).max(100).optional(),
  kind: z.enum(EMAIL_KINDS as [string, ...string[]]).optional(),
  status: z.enum(['queued', 'sent', 'failed']).optional(),
});

/** An email as the API shows it; a queued one is rendered now, as it will be sent. */
export function emailJson(row: EmailRow, links: LinkSettings) {
  const rendered = row.subject === null ? renderRow(row, links) : { subject: row.subject, text: row.text_body ?? '', html: row.html_body ?? '' };
  return {
    id: row.id,
    object: 'email' as const,
    livemode: row.livemode,
    kind: row.kind,
    status: row.status,
    to: row.to_address,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    payment: row.payment_id,
    customer: row.customer_id,
    transport: row.transport,
    attempts: row.attempts,
    created_at: iso(row.created_at),
    sent_at: iso(row.sent_at),
    error: row.error,
  };
}

export function registerEmails(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'GET', url: '/v2/emails', response: R.list(R.Email), summary: 'List the dunning emails sent (or queued) to customers, newest first', tag: 'Emails', auth: true, query: EmailListQuery }, async ({ query, principal }) => {
    const page = await listEmails(ctx.db, principal, { paymentId: query.payment, customerId: query.customer, kind: query.kind as EmailRow['kind'] | undefined, status: query.status, limit: query.limit, startingAfter: query.starting_after });
    const links = await ctx.links();
    return listJson('/v2/emails', page.data.map((r) => emailJson(r, links)), page.hasMore);
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/emails/:id', response: R.Email, summary: 'Retrieve a dunning email', tag: 'Emails', auth: true, params: IdParams }, async ({ params, principal }) =>
    emailJson(await getEmail(ctx.db, principal, params.id), await ctx.links()),
  );
}
