import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EMAIL_KINDS, type EmailKind } from '../domain/dunning.ts';
import { isValidTimeZone } from '../domain/local-time.ts';
import { previewEmailWith } from '../engine/email-preview.ts';
import { previewSchedule } from '../engine/schedule-preview.ts';
import { sendTestEmailOf } from '../engine/test-email.ts';
import { sendTestCharge } from '../engine/test-charge.ts';
import { getSettings } from '../store/settings.ts';
import { BodyInstant } from './common-schemas.ts';
import type { AppContext } from './context.ts';
import { DunningSettingsBody } from './dunning-settings.ts';
import { iso } from './payment-json.ts';
import { defineRoute } from './route.ts';
import * as R from './responses.ts';
import { AutoRescueSettingsBody, mergeAutoRescue } from './settings.ts';

// Previews for the settings page: the retries a decline would get and the emails a customer would
// read, under the saved settings with the page's unsaved changes on top. Nothing is saved or sent.

export const SchedulePreviewBody = AutoRescueSettingsBody.extend({
  example: z
    .strictObject({
      decline_code: z.string().min(1).max(100).default('insufficient_funds'),
      amount: z.number().int().min(1).max(99_999_999).default(4999),
      timezone: z.string().max(64).refine(isValidTimeZone, 'timezone must be an IANA time zone such as America/New_York').default('UTC'),
      failed_at: BodyInstant.optional(),
    })
    .optional(),
});

export const EmailPreviewBody = z.strictObject({
  kind: z.enum(EMAIL_KINDS as [EmailKind, ...EmailKind[]]),
  from_name: DunningSettingsBody.shape.from_name,
  reply_to: DunningSettingsBody.shape.reply_to,
  logo_url: DunningSettingsBody.shape.logo_url,
  brand_color: DunningSettingsBody.shape.brand_color,
  /** A BCP 47 tag such as fr-FR; the customer's locale formats amounts and dates. */
  locale: z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'locale must be a language tag such as en-US').max(35).optional(),
});

export const TestChargeBody = z.strictObject({
  /** A named gateway; left out: the default one. */
  gateway: z.string().min(1).max(40).optional(),
});

export function registerSettingsPreviews(app: FastifyInstance, ctx: AppContext) {
  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/auto_rescue/preview', response: R.SchedulePreview, summary: 'The retries Auto Rescue would plan for an example decline, under the saved defaults with these changes (nothing is saved)', tag: 'Settings', auth: true, body: SchedulePreviewBody },
    async ({ body, principal }) => {
      const { example, ...changes } = body;
      const current = (await getSettings(ctx.db, principal.accountId, principal.livemode)).autoRescue;
      const defaults = mergeAutoRescue(current, changes);
      const failedAt = example?.failed_at ?? ctx.clock.now();
      const ex = { declineCode: example?.decline_code ?? 'insufficient_funds', amount: example?.amount ?? 4999, timezone: example?.timezone ?? 'UTC', failedAt };
      const p = await previewSchedule(ctx.db, principal.accountId, principal.livemode, defaults, ex);
      return {
        object: 'schedule_preview' as const,
        livemode: principal.livemode,
        planner: p.planner,
        max_retries: defaults.max_retries,
        retry_window_days: defaults.retry_window_days,
        decline: { code: p.decline.code, category: p.decline.category, strategy: p.decline.strategy, message: p.decline.message },
        failed_at: iso(failedAt),
        window_ends_at: iso(p.windowEndsAt),
        stop_reason: p.stopReason,
        scheduled_retries: p.retries.map((r, i) => ({
          retry_number: i + 1,
          scheduled_at: iso(r.at),
          days_after_failure: Math.round(((r.at.getTime() - failedAt.getTime()) / 86_400_000) * 100) / 100,
          predicted_p: r.p,
          reason: r.reason,
        })),
      };
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/dunning/preview', response: R.EmailPreview, summary: 'An email as a customer would read it, under the saved dunning settings with these changes (nothing is saved or sent)', tag: 'Settings', auth: true, body: EmailPreviewBody },
    async ({ body, principal }) => {
      const { kind, locale, ...unsaved } = body;
      const p = await previewEmailWith(ctx.db, principal, unsaved, { kind, locale: locale ?? null, publicUrl: (await ctx.links()).publicUrl, now: ctx.clock.now() });
      return { object: 'email_preview' as const, livemode: principal.livemode, locale: body.locale ?? null, ...p };
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/dunning/test_email', response: R.TestEmail, summary: "Send the previewed email to the account's own address through the SMTP server (400 smtp_not_configured without one)", tag: 'Settings', auth: true, body: EmailPreviewBody },
    async ({ body, principal }) => {
      const { kind, locale, ...unsaved } = body;
      const sent = await sendTestEmailOf(ctx.db, ctx.config, principal, unsaved, { kind, locale: locale ?? null, publicUrl: (await ctx.links()).publicUrl, now: ctx.clock.now() });
      return { object: 'test_email' as const, kind, to: sent.to, subject: `[Test] ${sent.preview.subject}`, message_id: sent.messageId };
    },
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/gateways/test_charge', response: R.TestCharge, summary: 'Test mode: send one signed test charge (100 usd, pm_rescue_test_charge) to your http gateway and show its answer; nothing is written', tag: 'Settings', auth: true, body: TestChargeBody },
    async ({ body, principal }) => {
      const r = await sendTestCharge(ctx.gatewayFor, { accountId: principal.accountId, livemode: principal.livemode, gateway: body.gateway ?? null, now: ctx.clock.now(), nowMs: () => performance.now() });
      const a = r.result;
      return {
        object: 'test_charge' as const,
        gateway: body.gateway ?? 'default',
        idempotency_key: r.idempotencyKey,
        status: a.status,
        transaction_id: a.status === 'succeeded' ? a.transactionId : null,
        decline_code: a.status === 'failed' ? a.declineCode : null,
        message: a.status === 'failed' ? a.message : a.status === 'unknown' ? a.reason : null,
        latency_ms: Math.round(r.latencyMs),
      };
    },
  );
}
