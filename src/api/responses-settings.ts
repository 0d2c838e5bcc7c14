import { z } from 'zod';
import { Int, Timestamp } from './response-primitives.ts';

// Response bodies of the merchant's settings pages: API keys, the previews, the widget's settings
// (re-exported by responses.ts, which says how these schemas are used).

// --- The merchant's app (issue 14): keys and the settings page's previews --------------------

export const ApiKey = z
  .object({
    id: z.string(),
    object: z.literal('api_key'),
    livemode: z.boolean(),
    hint: z.string().meta({ description: 'The key by its last four characters, e.g. sk_test_…a1b2.' }),
    secret: z.string().nullable().meta({ description: 'The whole secret: only in the answer that creates or rolls the key, null everywhere else.' }),
    created_at: Timestamp,
  })
  .meta({ id: 'ApiKey' });

export const SchedulePreview = z
  .object({
    object: z.literal('schedule_preview'),
    livemode: z.boolean(),
    planner: z.enum(['learned', 'automatic', 'custom']),
    max_retries: Int,
    retry_window_days: Int,
    decline: z.object({ code: z.string(), category: z.string(), strategy: z.string(), message: z.string() }),
    failed_at: Timestamp,
    window_ends_at: Timestamp,
    stop_reason: z.string().nullable(),
    scheduled_retries: z.array(
      z.object({ retry_number: Int, scheduled_at: Timestamp, days_after_failure: z.number(), predicted_p: z.number().nullable(), reason: z.string().nullable() }),
    ),
  })
  .meta({ id: 'SchedulePreview' });

export const EmailPreview = z
  .object({
    object: z.literal('email_preview'),
    livemode: z.boolean(),
    locale: z.string().nullable(),
    kind: z.string(),
    from_name: z.string(),
    reply_to: z.string().nullable(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
  })
  .meta({ id: 'EmailPreview' });

export const TestEmail = z
  .object({ object: z.literal('test_email'), kind: z.string(), to: z.string(), subject: z.string(), message_id: z.string().nullable() })
  .meta({ id: 'TestEmail' });

export const TestCharge = z
  .object({
    object: z.literal('test_charge'),
    gateway: z.string(),
    idempotency_key: z.string(),
    status: z.enum(['succeeded', 'failed', 'unknown']),
    transaction_id: z.string().nullable(),
    decline_code: z.string().nullable(),
    message: z.string().nullable(),
    latency_ms: Int,
  })
  .meta({ id: 'TestCharge' });

// --- The customer-portal widget (issue 12) ---------------------------------------------------

export const WidgetSettings = z
  .object({
    object: z.literal('widget_settings'),
    livemode: z.boolean(),
    allowed_origins: z.array(z.string()),
    branding: z.object({ accent_color: z.string().nullable(), logo_url: z.string().nullable() }),
    secret_created_at: Timestamp.nullable(),
  })
  .meta({ id: 'WidgetSettings' });

export const WidgetSecret = z
  .object({ object: z.literal('widget_secret'), livemode: z.boolean(), secret: z.string(), created_at: Timestamp })
  .meta({ id: 'WidgetSecret' });
