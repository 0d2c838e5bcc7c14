import { definedFields } from './common-schemas.ts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RescueError } from '../errors.ts';
import { RESCUE_LIMITS } from '../domain/auto-rescue-policy.ts';
import { randomBytes } from 'node:crypto';
import { getSettings, updateSettings, type GatewaySettings, type NamedGateway, type RecoverySettings } from '../store/settings.ts';
import { DEFAULT_GATEWAY, defaultTokenPrefixes } from '../domain/gateway-routing.ts';
import { CONTROL_GROUP_PERCENT } from '../domain/experiment.ts';
import { assertGatewayUrlAllowed } from './gateway-url.ts';
import type { AppContext } from './context.ts';
import { CustomScheduleDays, crossCheckSchedule } from './payments.ts';
import { defineRoute } from './route.ts';
import type { AutoRescueDefaults } from '../domain/auto-rescue-policy.ts';
import * as R from './responses.ts';

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
    /** Plan automatic schedules with the learned retry-timing model (default true; false: the rule-based schedule). */
    learned: z.boolean().optional(),
    /** The share of a recovery's value lost per day unpaid, for the learned schedule (default 0.077). */
    daily_churn_hazard: z.number().min(0).max(0.5).optional(),
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

/** A named gateway: lower case, so a name in a request cannot differ from the stored one by case alone. */
export const GatewayName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'gateway names are 1 to 40 lower-case letters, digits, _ or -, starting with a letter or digit');

const TokenPrefix = z.string().min(2).max(32).regex(/^[A-Za-z0-9_-]+$/, 'a token prefix is 2 to 32 letters, digits, _ or -');

const NamedGatewayFields = {
  name: GatewayName.refine((n) => n !== DEFAULT_GATEWAY, { message: `'${DEFAULT_GATEWAY}' is the account's default gateway: set it with POST /v2/settings/gateway` }),
  /** Tokens starting with one of these are charged through this gateway (longest prefix wins). */
  token_prefixes: z.array(TokenPrefix).max(20).optional(),
};

export const NamedGatewayBody = z.discriminatedUnion('type', [
  z.strictObject({ ...NamedGatewayFields, type: z.literal('sandbox') }),
  z.strictObject({
    ...NamedGatewayFields,
    type: z.literal('http'),
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().regex(WHSEC, 'secret must be a Standard Webhooks secret: whsec_ followed by base64').optional(),
  }),
]);

export const RecoverySettingsBody = z.strictObject({
  control_group_percent: z.number().min(CONTROL_GROUP_PERCENT.min).max(CONTROL_GROUP_PERCENT.max),
});

function namedGatewayJson(g: NamedGateway | { name: string; gateway: GatewaySettings; tokenPrefixes: string[] }, livemode: boolean, revealSecret: boolean) {
  const { object: _object, ...settings } = gatewayJson(g.gateway, livemode, revealSecret);
  return { object: 'gateway' as const, name: g.name, default: g.name === DEFAULT_GATEWAY, ...settings, token_prefixes: g.tokenPrefixes };
}

function recoverySettingsJson(r: RecoverySettings, livemode: boolean) {
  return { object: 'recovery_settings' as const, livemode, control_group_percent: r.controlGroupPercent };
}

function autoRescueJson(s: AutoRescueDefaults, livemode: boolean) {
  return { object: 'auto_rescue_settings' as const, livemode, ...s };
}

function gatewayJson(g: GatewaySettings, livemode: boolean, revealSecret: boolean) {
  if (g.type !== 'http') return { object: 'gateway_settings' as const, livemode, type: g.type };
  const secret = revealSecret ? g.secret : `${g.secret.slice(0, 10)}…`;
  return { object: 'gateway_settings' as const, livemode, type: g.type, url: g.url, secret };
}

/** Saved defaults with a partial update applied; the cross-field rules hold for the result, which is what payments use. */
export function mergeAutoRescue(current: AutoRescueDefaults, body: z.infer<typeof AutoRescueSettingsBody>): AutoRescueDefaults {
  const { qualifying, ...rest } = body;
  const merged: AutoRescueDefaults = {
    ...current,
    ...definedFields(rest),
    qualifying: { ...current.qualifying, ...definedFields(qualifying ?? {}) },
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
  z.object({}).loose().superRefine((_, c) => crossCheckSchedule({ ...merged, custom_schedule_days: merged.custom_schedule_days }, c)).parse({});
  return merged;
}

export function registerSettings(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/auto_rescue', response: R.AutoRescueSettings, summary: 'Account-level Auto Rescue defaults', tag: 'Settings', auth: true }, async ({ principal }) =>
    autoRescueJson((await getSettings(ctx.db, principal.accountId, principal.livemode)).autoRescue, principal.livemode),
  );

  defineRoute(app, ctx, { method: 'POST', url: '/v2/settings/auto_rescue', response: R.AutoRescueSettings, summary: 'Update Auto Rescue defaults (fields left out keep their value)', tag: 'Settings', auth: true, body: AutoRescueSettingsBody }, async ({ body, principal }) => {
    // Merged with the defaults as saved, under the settings row's lock (store/settings.ts).
    const saved = await updateSettings(ctx.db, principal.accountId, principal.livemode, ctx.clock.now(), (current) => ({ autoRescue: mergeAutoRescue(current.autoRescue, body) }));
    const merged = saved.autoRescue;
    return autoRescueJson(merged, principal.livemode);
  });

  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/gateway', response: R.GatewaySettings, summary: 'The gateway this mode charges through', tag: 'Settings', auth: true }, async ({ principal }) =>
    gatewayJson((await getSettings(ctx.db, principal.accountId, principal.livemode)).gateway, principal.livemode, false),
  );

  defineRoute(app, ctx, { method: 'POST', url: '/v2/settings/gateway', response: R.GatewaySettings, summary: 'Charge through the sandbox or the merchant\'s own http endpoint', tag: 'Settings', auth: true, body: GatewaySettingsBody }, async ({ body, principal }) => {
    let gateway: GatewaySettings = { type: 'sandbox' };
    if (body.type === 'sandbox' && principal.livemode) {
      throw new RescueError('parameter_invalid', 'The sandbox card network is for test mode; live mode needs a real gateway.', 'type');
    }
    if (body.type === 'http') {
      await assertGatewayUrlAllowed(ctx.egress, body.url, principal.livemode);
      gateway = { type: 'http', url: body.url, secret: body.secret ?? `whsec_${randomBytes(24).toString('base64')}` };
    }
    await updateSettings(ctx.db, principal.accountId, principal.livemode, ctx.clock.now(), () => ({ gateway }));
    // The secret is shown in full once, in this response.
    return gatewayJson(gateway, principal.livemode, true);
  });
  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/gateways', response: R.list(R.Gateway), summary: 'Every gateway of this mode: the default one and the named ones tokens are routed to', tag: 'Settings', auth: true }, async ({ principal }) => {
    const s = await getSettings(ctx.db, principal.accountId, principal.livemode);
    const data = [{ name: DEFAULT_GATEWAY, gateway: s.gateway, tokenPrefixes: [] as string[] }, ...s.gateways].map((g) => namedGatewayJson(g, principal.livemode, false));
    return { object: 'list' as const, url: '/v2/settings/gateways', data, has_more: false };
  });

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/gateways', response: R.Gateway, summary: 'Add or replace a named gateway, and the token prefixes routed to it', tag: 'Settings', auth: true, body: NamedGatewayBody },
    async ({ body, principal }) => {
      if (body.type === 'sandbox' && principal.livemode) {
        throw new RescueError('parameter_invalid', 'The sandbox card network is for test mode; live mode needs a real gateway.', 'type');
      }
      let gateway: NamedGateway['gateway'] = { type: 'sandbox' };
      if (body.type === 'http') {
        await assertGatewayUrlAllowed(ctx.egress, body.url, principal.livemode);
        gateway = { type: 'http', url: body.url, secret: body.secret ?? `whsec_${randomBytes(24).toString('base64')}` };
      }
      const tokenPrefixes = body.token_prefixes ?? defaultTokenPrefixes(body.type);
      const named: NamedGateway = { name: body.name, gateway, tokenPrefixes: [...new Set(tokenPrefixes)] };
      await updateSettings(ctx.db, principal.accountId, principal.livemode, ctx.clock.now(), (current) => {
        const others = current.gateways.filter((g) => g.name !== body.name);
        for (const prefix of tokenPrefixes) {
          const owner = others.find((g) => g.tokenPrefixes.includes(prefix));
          if (owner) throw new RescueError('parameter_invalid', `Token prefix '${prefix}' already routes to gateway '${owner.name}'.`, 'token_prefixes');
        }
        const existing = current.gateways.findIndex((g) => g.name === body.name);
        return { gateways: existing >= 0 ? current.gateways.map((g, i) => (i === existing ? named : g)) : [...current.gateways, named] };
      });
      // The secret is shown in full once, in this response.
      return namedGatewayJson(named, principal.livemode, true);
    },
  );

  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/recovery', response: R.RecoverySettings, summary: 'Recovery settings: the control group', tag: 'Settings', auth: true }, async ({ principal }) =>
    recoverySettingsJson((await getSettings(ctx.db, principal.accountId, principal.livemode)).recovery, principal.livemode),
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/recovery', response: R.RecoverySettings, summary: 'Hold back a share of hand-offs (0-20 %) on a plain fixed schedule, to measure what the automatic policy adds', tag: 'Settings', auth: true, body: RecoverySettingsBody },
    async ({ body, principal }) => {
      const saved = await updateSettings(ctx.db, principal.accountId, principal.livemode, ctx.clock.now(), (current) => ({
        recovery: { ...current.recovery, controlGroupPercent: body.control_group_percent } satisfies RecoverySettings,
      }));
      return recoverySettingsJson(saved.recovery, principal.livemode);
    },
  );
}
