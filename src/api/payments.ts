import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RESCUE_LIMITS } from '../domain/auto-rescue-policy.ts';
import { MAX_AMOUNT, normalizeCurrency } from '../domain/money.ts';
import { cancelRescue, createPayment, retryNow, type PaymentDeps } from '../engine/payments.ts';
import { findPaymentIdByIdempotencyKey, getPaymentRecord, getPaymentRecords, listPaymentIds } from '../store/payments.ts';
import { CustomerId, IdParams, ListQuery, listJson, Metadata } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { paymentJson } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';

const { maxRetries, retryWindowDays, customDays } = RESCUE_LIMITS;

export const CustomScheduleDays = z
  .array(z.number().int().min(customDays.min).max(customDays.max))
  .min(1)
  .max(maxRetries.max)
  .superRefine((days, ctx) => {
    days.forEach((d, i) => {
      if (i > 0 && d <= days[i - 1]!) ctx.addIssue({ code: 'custom', path: [i], message: 'custom_schedule_days must be strictly ascending' });
    });
  });

/** Plexy's `auto_rescue` options with the seed's ranges; cross-field rules checked after. */
export const AutoRescueOptions = z
  .strictObject({
    enabled: z.boolean().optional(),
    max_retries: z.number().int().min(maxRetries.min).max(maxRetries.max).optional(),
    retry_window_days: z.number().int().min(retryWindowDays.min).max(retryWindowDays.max).optional(),
    retry_schedule: z.enum(['automatic', 'custom']).optional(),
    custom_schedule_days: CustomScheduleDays.optional(),
    notify_customer: z.boolean().optional(),
    check_account_updater: z.boolean().optional(),
  })
  .superRefine((o, ctx) => crossCheckSchedule(o, ctx));

export function crossCheckSchedule(
  o: { retry_schedule?: string | undefined; custom_schedule_days?: number[] | null | undefined; retry_window_days?: number | undefined; max_retries?: number | undefined },
  ctx: z.RefinementCtx,
) {
  const days = o.custom_schedule_days ?? null;
  if (o.retry_schedule === 'custom' && !days) {
    ctx.addIssue({ code: 'custom', path: ['custom_schedule_days'], message: 'custom_schedule_days is required when retry_schedule is custom' });
  }
  if (o.retry_schedule === 'automatic' && days) {
    ctx.addIssue({ code: 'custom', path: ['custom_schedule_days'], message: 'custom_schedule_days is only allowed with retry_schedule custom' });
  }
  if (days && o.retry_window_days !== undefined) {
    const beyond = days.findIndex((d) => d > o.retry_window_days!);
    if (beyond >= 0) ctx.addIssue({ code: 'custom', path: ['custom_schedule_days', beyond], message: `day ${days[beyond]} is beyond retry_window_days (${o.retry_window_days})` });
  }
  if (days && o.max_retries !== undefined && days.length > o.max_retries) {
    ctx.addIssue({ code: 'custom', path: ['custom_schedule_days'], message: `custom_schedule_days has ${days.length} days but max_retries is ${o.max_retries}` });
  }
}

export const PaymentBody = z.strictObject({
  amount: z.number().int('amount must be an integer in the currency\'s minor unit').positive('amount must be positive').max(MAX_AMOUNT),
  currency: z.string().transform((c, ctx) => normalizeCurrency(c) ?? (ctx.addIssue({ code: 'custom', message: `unknown currency '${c}' (ISO 4217 code expected)` }), z.NEVER)),
  /** A customer of the account; an id it has not seen yet creates that customer (docs/client.md#customer-ids). */
  customer: CustomerId.optional(),
  payment_method: z.string().min(1).max(255),
  off_session: z.boolean().default(false),
  auto_rescue: AutoRescueOptions.optional(),
  metadata: Metadata.default({}),
});

export const PaymentListQuery = ListQuery.extend({
  status: z.enum(['processing', 'succeeded', 'requires_rescue', 'rescue_in_progress', 'failed', 'rescue_cancelled']).optional(),
  customer: z.string().min(1).optional(),
});

export function registerPayments(app: FastifyInstance, ctx: AppContext) {
  const deps: PaymentDeps = { db: ctx.db, clock: ctx.clock, gatewayFor: ctx.gatewayFor, leaseMs: ctx.config.RESCUE_ATTEMPT_LEASE_SECONDS * 1000, workerId: ctx.processId };

  defineRoute(
    app,
    ctx,
    {
      method: 'POST',
      url: '/v2/payments',
      response: R.Payment,
      summary: 'Create a payment: charge it now, and start Auto Rescue if it fails with a retryable decline',
      tag: 'Payments',
      auth: true,
      body: PaymentBody,
      successStatus: 201,
      // A crash after the payment was written but before the response was stored: the payment
      // (found by its key) is the answer, never a second charge.
      resume: async (c, principal, key) => {
        const id = await findPaymentIdByIdempotencyKey(c.db, principal, key);
        return id ? { status: 201, body: paymentJson(await getPaymentRecord(c.db, principal, id)) } : null;
      },
    },
    async ({ body, principal, idempotencyKey }) => {
      const record = await createPayment(deps, principal, {
        amount: body.amount,
        currency: body.currency,
        customer: body.customer ?? null,
        payment_method: body.payment_method,
        off_session: body.off_session,
        auto_rescue: body.auto_rescue,
        metadata: body.metadata,
        idempotencyKey,
      });
      ctx.wakeWorker();
      return paymentJson(record);
    },
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/payments/:id', response: R.Payment, summary: 'Retrieve a payment with its rescue schedule and history', tag: 'Payments', auth: true, params: IdParams }, async ({ params, principal }) =>
    paymentJson(await getPaymentRecord(ctx.db, principal, params.id)),
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/payments', response: R.list(R.Payment), summary: 'List payments, newest first', tag: 'Payments', auth: true, query: PaymentListQuery }, async ({ query, principal }) => {
    const page = await listPaymentIds(ctx.db, principal, { status: query.status, customer: query.customer, limit: query.limit, startingAfter: query.starting_after });
    const records = await getPaymentRecords(ctx.db, principal, page.ids);
    return listJson('/v2/payments', records.map(paymentJson), page.hasMore);
  });

  defineRoute(app, ctx, { method: 'POST', url: '/v2/payments/:id/cancel_rescue', response: R.Payment, summary: 'Stop retrying a payment', tag: 'Payments', auth: true, params: IdParams }, async ({ params, principal }) =>
    paymentJson(await cancelRescue(deps, principal, params.id)),
  );

  defineRoute(app, ctx, { method: 'POST', url: '/v2/payments/:id/retry_now', response: R.Payment, summary: 'Run the next retry immediately (counts against max_retries)', tag: 'Payments', auth: true, params: IdParams }, async ({ params, principal }) =>
    paymentJson(await retryNow(deps, principal, params.id)),
  );
}
