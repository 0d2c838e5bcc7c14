import { definedFields } from './common-schemas.ts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DunningSettings } from '../domain/dunning.ts';
import { getSettings, updateSettings } from '../store/settings.ts';
import type { AppContext } from './context.ts';
import { defineRoute } from './route.ts';
import { invalid } from '../errors.ts';
import * as R from './responses.ts';

// The account's dunning settings per mode (GET/POST /v2/settings/dunning): whether customers are
// emailed, as whom, which emails, and the merchant's own update-payment page if it has one.

// A display name goes into a From header: no line breaks or angle brackets, nothing to inject.
const FromName = z.string().trim().min(1).max(100).regex(/^[^\r\n<>"]+$/, 'from_name may not contain line breaks, quotes or angle brackets');

export const DunningSettingsBody = z.strictObject({
  enabled: z.boolean().optional(),
  from_name: FromName.nullable().optional(),
  reply_to: z.email().max(254).nullable().optional(),
  emails: z
    .strictObject({
      payment_failed: z.boolean().optional(),
      retry_reminder: z.boolean().optional(),
      rescue_failed: z.boolean().optional(),
      payment_recovered: z.boolean().optional(),
      card_expiring: z.boolean().optional(),
    })
    .optional(),
  update_payment_url: z.url({ protocol: /^https?$/ }).max(2000).nullable().optional(),
  /** Mail clients load images over https only; the image is the merchant's, Rescue never fetches it. */
  logo_url: z.url({ protocol: /^https$/, message: 'logo_url must be an https URL' }).max(2000).nullable().optional(),
  brand_color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'brand_color must be a colour such as #1a56db').nullable().optional(),
  /** Customers without a `locale` read emails and pages in this language (en, de, fr, es; others fall back to English). */
  default_locale: z.string().max(35).regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a BCP 47 language tag such as de-DE').nullable().optional(),
});

function dunningJson(s: DunningSettings, livemode: boolean) {
  return { object: 'dunning_settings' as const, livemode, ...s };
}

export function registerDunningSettings(app: FastifyInstance, ctx: AppContext) {
  defineRoute(app, ctx, { method: 'GET', url: '/v2/settings/dunning', response: R.DunningSettings, summary: 'Dunning: which emails customers get, from whom, and where update-payment links point', tag: 'Settings', auth: true }, async ({ principal }) =>
    dunningJson((await getSettings(ctx.db, principal.accountId, principal.livemode)).dunning, principal.livemode),
  );

  defineRoute(
    app,
    ctx,
    { method: 'POST', url: '/v2/settings/dunning', response: R.DunningSettings, summary: 'Update the dunning settings (fields left out keep their value)', tag: 'Settings', auth: true, body: DunningSettingsBody },
    async ({ body, principal }) => {
      // A page where customers type card details must be encrypted in live mode.
      if (principal.livemode && body.update_payment_url && !body.update_payment_url.startsWith('https://')) {
        throw invalid('update_payment_url', 'update_payment_url must be https in live mode: customers enter payment details there.');
      }
      const { emails, ...rest } = body;
      // Merged under the settings row's lock: a concurrent save of another section survives (store/settings.ts).
      const saved = await updateSettings(ctx.db, principal.accountId, principal.livemode, ctx.clock.now(), (current) => ({
        dunning: { ...current.dunning, ...definedFields(rest), emails: { ...current.dunning.emails, ...definedFields(emails ?? {}) } } satisfies DunningSettings,
      }));
      return dunningJson(saved.dunning, principal.livemode);
    },
  );
}
