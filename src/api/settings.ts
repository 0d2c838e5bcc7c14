import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RescueError } from '../errors.ts';
import { RESCUE_LIMITS } from '../domain/auto-rescue-policy.ts';
import { randomBytes } from 'node:crypto';
import { getSettings, saveSettings, type GatewaySettings } from '../store/settings.ts';
import { assertGatewayUrlAllowed } from './gateway-url.ts';
import type { AppContext } from './context.ts';
import { CustomScheduleDays, crossCheckSchedule } from './payments.ts';
import { defineRoute } from './route.ts';
import type { AutoRescueDefaults } from '../domain/auto-rescue-policy.ts';

const { maxRetries, retryWindowDays } = RESCUE_LIMITS;

export const AutoRescueSettingsBody = z
  .strictObject({
    enabled: z.boolean().optional(),
    max_retries: z.number().int().min(maxRetries.min).max(maxRetries.max).optional(),
    retry_window_days: z.number().int().min(retryWindowDays.min).max(retryWindowDays.max).optional(),
    retry_schedule: z.enum(['automatic', 'custom']).optional(),
    custom_schedule_days: CustomScheduleDays.nullable().optional(),
    notify_customer: z.boolean().optional(),
    check_account_updater: z.boolean().optional(),
    qualifying: z
      .strictObject({
        subscription_payments: z.boolean().optional(),
        off_session_payments: z.boolean().optional(),
        amount_over: z.number().int().min(0).nullable().optional(),
      })
      .optional(),
  });

const WHSEC = /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/;

export const GatewaySettingsBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sandbox') }),
  z.strictObject({
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().regex(WHSEC, 'secret must be a Standard Webhooks secret: whsec_ followed by base64').optional(),
  }),
]);

function autoRescueJson(s: AutoRescueDefaults, livemode: boolean) {
  return { object: 'auto_rescue_settings' as const, livemode, ...s };
}

function gatewayJson(g: GatewaySettings, livemode: boolean, revealSecret: boolean) {
  if (g.type !== 'http') return { object: 'gateway_settings' as const, livemode, type: g.type };
  const secret = revealSecret ? g.secret : `${g.secret.slice(0, 10)}…`;
  return { object: 'gateway_settings' as const, livemode, type: g.type, url: g.url, secret };
}

export function registerSettings(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/auto_rescue', summary: 'Account-level Auto Rescue defaults', tag: 'Settings', auth: true }, async ({ principal }) =>
    autoRescueJson((await getSettings(ctx.db, principal.accountId, principal.livemode)).autoRescue, principal.livemode),
  );

  defineRoute(app, ctx, { method: 'POST', url: '/v2/settings/auto_rescue', summary: 'Update Auto Rescue defaults (fields left out keep their value)', tag: 'Settings', auth: true, body: AutoRescueSettingsBody }, async ({ body, principal }) => {
    const current = await getSettings(ctx.db, principal.accountId, principal.livemode);
    const { qualifying, ...rest } = body;
    const merged: AutoRescueDefaults = {
      ...current.autoRescue,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
      qualifying: { ...current.autoRescue.qualifying, ...Object.fromEntries(Object.entries(qualifying ?? {}).filter(([, v]) => v !== undefined)) },
    };
    if (body.retry_schedule === 'automatic' && body.custom_schedule_days === undefined) merged.custom_schedule_days = null;
    // Days given without a count or a window: the same rule as on a payment (resolveRescuePolicy),
    // so the seed's own example is a valid default too. The count is the number of days; the
    // window stretches to the last day. A count or window that is sent is checked against the days.
    const days = body.custom_schedule_days;
    if (days) {
      if (body.max_retries === undefined) merged.max_retries = days.length;
      if (body.retry_window_days === undefined) merged.retry_window_days = Math.max(merged.retry_window_days, days[days.length - 1]!);
      if (body.retry_schedule === undefined) merged.retry_schedule = 'custom';
    }
    // Cross-field rules hold for the merged result, which is what payments will use.
    z.object({}).loose().superRefine((_, c) => crossCheckSchedule({ ...merged, custom_schedule_days: merged.custom_schedule_days }, c)).parse({});
    await saveSettings(ctx.db, principal.accountId, principal.livemode, { ...current, autoRescue: merged }, ctx.clock.now());
    return autoRescueJson(merged, principal.livemode);
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/gateway', summary: 'The gateway this mode charges through', tag: 'Settings', auth: true }, async ({ principal }) =>
    gatewayJson((await getSettings(ctx.db, principal.accountId, principal.livemode)).gateway, principal.livemode, false),
  );

  defineRoute(app, ctx, { method: 'POST', url: '/v2/settings/gateway', summary: 'Charge through the sandbox or the merchant\'s own http endpoint', tag: 'Settings', auth: true, body: GatewaySettingsBody }, async ({ body, principal }) => {
    const current = await getSettings(ctx.db, principal.accountId, principal.livemode);
    let gateway: GatewaySettings = { type: 'sandbox' };
    if (body.type === 'sandbox' && principal.livemode) {
      throw new RescueError('parameter_invalid', 'The sandbox card network is for test mode; live mode needs a real gateway.', 'type');
    }
    if (body.type === 'http') {
      if (principal.livemode && !ctx.config.RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES) await assertGatewayUrlAllowed(body.url);
      gateway = { type: 'http', url: body.url, secret: body.secret ?? `whsec_${randomBytes(24).toString('base64')}` };
    }
    await saveSettings(ctx.db, principal.accountId, principal.livemode, { ...current, gateway }, ctx.clock.now());
    // The secret is shown in full once, in this response.
    return gatewayJson(gateway, principal.livemode, true);
  });
}
