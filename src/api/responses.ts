import { z } from 'zod';
import { Int, Metadata, Timestamp } from './response-primitives.ts';

export { Int, Timestamp };

// Every response body the API sends, as zod schemas: they become the OpenAPI document's responses
// (api/openapi.ts), the types of @rescue/client (scripts/client-types.ts), and, when the app runs
// with `validateResponses` (the test harness), every answer is checked against them (api/route.ts),
// so the document, the client and the handlers cannot drift apart. Objects are closed: a field a
// handler adds must be added here, or the tests fail.

export const list = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), url: z.string(), data: z.array(item), has_more: z.boolean() });

export const ErrorBody = z
  .looseObject({
    error: z.object({
      type: z.enum(['invalid_request_error', 'authentication_error', 'idempotency_error', 'card_error', 'api_error', 'rate_limit_error']),
      code: z.string(),
      message: z.string(),
      param: z.string().nullable().optional(),
    }),
  })
  .meta({ id: 'Error', description: 'A Stripe-style error. Revtain routes add their own fields beside `error` (success, blocked, duplicate, recoveryId…).' });

// --- Plexy (seed 003): payments -------------------------------------------------------------

export const PaymentStatus = z.enum(['processing', 'succeeded', 'requires_rescue', 'rescue_in_progress', 'failed', 'rescue_cancelled']);

const AutoRescueState = z.object({
  enabled: z.boolean(),
  status: z.enum(['pending', 'not_needed', 'not_retryable', 'disabled', 'active', 'recovered', 'exhausted', 'cancelled']),
  attempts_made: Int,
  max_retries: Int.nullable(),
  retry_window_ends_at: Timestamp.optional(),
  recovered_at: Timestamp.nullable().optional(),
  ended_at: Timestamp.nullable().optional(),
  end_reason: z.string().nullable().optional(),
  cancelled_at: Timestamp.nullable().optional(),
});

const RescueSchedule = z.object({
  next_retry_at: Timestamp.nullable(),
  retry_number: Int.nullable(),
  waiting_for_new_card: z.boolean(),
  scheduled_retries: z.array(
    z.object({ retry_number: Int, scheduled_at: Timestamp, predicted_p: z.number().optional(), reason: z.string().nullable().optional() }),
  ),
});

const RescueHistoryEntry = z.object({
  attempt: Int,
  attempted_at: Timestamp.nullable(),
  result: z.enum(['succeeded', 'failed']),
  failure_code: z.string().nullable().optional(),
});

export const Payment = z
  .object({
    id: z.string(),
    object: z.literal('payment'),
    amount: Int,
    currency: z.string(),
    status: PaymentStatus,
    customer: z.string().nullable(),
    payment_method: z.string(),
    payment_method_details: z
      .object({ type: z.string(), card: z.object({ brand: z.string(), last4: z.string().nullable() }) })
      .nullable()
      .meta({ description: "Stripe's shape: the card of the latest attempt as brand and last 4 (never the token); null before the first attempt." }),
    failure_code: z.string().nullable(),
    failure_message: z.string().nullable(),
    auto_rescue: AutoRescueState,
    rescue_schedule: RescueSchedule.nullable(),
    rescue_history: z.array(RescueHistoryEntry),
    off_session: z.boolean(),
    livemode: z.boolean(),
    metadata: Metadata,
    test_clock: z.string().nullable(),
    sandbox_note: z.string().optional().meta({ description: "Test mode, sandbox only: how the sandbox card network read a token it does not know as written (an unknown token is approved)." }),
    created_at: Timestamp,
  })
  .meta({ id: 'Payment' });

export const PaymentMethodUpdate = z
  .object({ object: z.literal('payment_method_update'), outcome: z.string(), retry_at: Timestamp.nullable(), payment: Payment })
  .meta({ id: 'PaymentMethodUpdate' });

export const Customer = z
  .object({
    id: z.string(),
    object: z.literal('customer'),
    email: z.string().nullable(),
    name: z.string().nullable(),
    timezone: z.string(),
    locale: z.string().nullable(),
    metadata: Metadata,
    test_clock: z.string().nullable(),
    livemode: z.boolean(),
    created_at: Timestamp,
  })
  .meta({ id: 'Customer' });

export const TestClock = z
  .object({
    id: z.string(),
    object: z.literal('test_clock'),
    frozen_time: Int.meta({ description: 'Unix seconds, as in the request that sets it.' }),
    name: z.string().nullable(),
    status: z.enum(['ready', 'advancing']),
    livemode: z.boolean(),
    created_at: Timestamp,
  })
  .meta({ id: 'TestClock' });

export const Event = z
  .object({ id: z.string(), object: z.literal('event'), type: z.string(), api_version: z.string(), created_at: Timestamp, livemode: z.boolean(), data: z.record(z.string(), z.unknown()) })
  .meta({ id: 'Event' });

export const Signup = z
  .object({
    account: z.object({ id: z.string(), object: z.literal('account'), email: z.string(), business_name: z.string(), created_at: Timestamp }),
    api_keys: z.object({ test: z.string(), live: z.string() }),
  })
  .meta({ id: 'Signup' });

// --- Webhook endpoints -----------------------------------------------------------------------

export const WebhookEndpoint = z
  .object({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    description: z.string().nullable(),
    enabled_events: z.array(z.string()),
    status: z.enum(['enabled', 'disabled']),
    disabled_reason: z.enum(['requested', 'failing']).nullable(),
    secret: z.string().nullable().meta({ description: 'Shown when the endpoint is created and when its secret is rotated; null otherwise.' }),
    previous_secret_expires_at: Timestamp.nullable(),
    livemode: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .meta({ id: 'WebhookEndpoint' });

export const Deleted = z.object({ id: z.string(), object: z.string(), deleted: z.literal(true) }).meta({ id: 'Deleted' });

export const WebhookDelivery = z
  .object({
    id: z.string(),
    object: z.literal('webhook_delivery'),
    endpoint: z.string(),
    event: z.string(),
    event_type: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: Int,
    response_status: Int.nullable(),
    latency_ms: z.number().nullable(),
    error: z.string().nullable(),
    next_retry_at: Timestamp.nullable(),
    last_attempt_at: Timestamp.nullable(),
    created_at: Timestamp,
    livemode: z.boolean(),
  })
  .meta({ id: 'WebhookDelivery' });

// --- Settings --------------------------------------------------------------------------------

export const AutoRescueSettings = z
  .object({
    object: z.literal('auto_rescue_settings'),
    livemode: z.boolean(),
    enabled: z.boolean(),
    max_retries: Int,
    retry_window_days: Int,
    retry_schedule: z.enum(['automatic', 'custom']),
    custom_schedule_days: z.array(Int).nullable(),
    notify_customer: z.boolean(),
    check_account_updater: z.boolean(),
    learned: z.boolean(),
    daily_churn_hazard: z.number(),
    qualifying: z.object({ subscription_payments: z.boolean(), off_session_payments: z.boolean(), amount_over: Int.nullable() }),
  })
  .meta({ id: 'AutoRescueSettings' });

const GatewayFields = {
  livemode: z.boolean(),
  type: z.enum(['none', 'sandbox', 'http', 'stripe']),
  url: z.string().optional(),
  secret: z.string().optional().meta({ description: 'In full once, when saved; its first 10 characters otherwise.' }),
};

export const GatewaySettings = z.object({ object: z.literal('gateway_settings'), ...GatewayFields }).meta({ id: 'GatewaySettings' });

export const Gateway = z
  .object({ object: z.literal('gateway'), name: z.string(), default: z.boolean(), ...GatewayFields, token_prefixes: z.array(z.string()) })
  .meta({ id: 'Gateway' });

export const RecoverySettings = z.object({ object: z.literal('recovery_settings'), livemode: z.boolean(), control_group_percent: z.number() }).meta({ id: 'RecoverySettings' });

export const PredictionSettings = z.object({ object: z.literal('prediction_settings'), livemode: z.boolean(), risk_threshold: z.number() }).meta({ id: 'PredictionSettings' });

export const DunningSettings = z
  .object({
    object: z.literal('dunning_settings'),
    livemode: z.boolean(),
    enabled: z.boolean(),
    from_name: z.string().nullable(),
    reply_to: z.string().nullable(),
    emails: z.object({ payment_failed: z.boolean(), retry_reminder: z.boolean(), rescue_failed: z.boolean(), payment_recovered: z.boolean(), card_expiring: z.boolean() }),
    update_payment_url: z.string().nullable(),
    logo_url: z.string().nullable(),
    brand_color: z.string().nullable(),
    default_locale: z.string().nullable(),
  })
  .meta({ id: 'DunningSettings' });

export const Email = z
  .object({
    id: z.string(),
    object: z.literal('email'),
    livemode: z.boolean(),
    kind: z.enum(['payment_failed', 'retry_reminder', 'rescue_failed', 'payment_recovered', 'card_expiring']),
    status: z.enum(['queued', 'sent', 'failed']),
    to: z.string(),
    subject: z.string(),
    text: z.string(),
    html: z.string(),
    payment: z.string().nullable(),
    customer: z.string().nullable(),
    transport: z.string().nullable(),
    attempts: Int,
    created_at: Timestamp,
    sent_at: Timestamp.nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Email' });

// --- Stripe ----------------------------------------------------------------------------------

export const StripeConnectLink = z
  .object({ object: z.literal('stripe_connect_link'), livemode: z.boolean(), mode: z.string(), scope: z.string(), url: z.string(), expires_at: Timestamp })
  .meta({ id: 'StripeConnectLink' });

export const StripeConnection = z
  .object({
    object: z.literal('stripe_connection'),
    livemode: z.boolean(),
    status: z.string(),
    status_reason: z.string().nullable(),
    kind: z.string().nullable(),
    stripe_account: z.string().nullable(),
    scope: z.string().nullable(),
    mode: z.string().nullable(),
    connected_at: Timestamp.nullable(),
    token_refreshed_at: Timestamp.nullable(),
    disconnected_at: Timestamp.nullable(),
    billing_webhook: z.object({ url: z.string().nullable(), secret_set: z.boolean() }),
    notice: z.string().nullable(),
    customer_emails: z
      .object({ stripe_failed_payment_emails: z.boolean().nullable(), rescue_emails_enabled: z.boolean(), settings_url: z.string(), advice: z.string() })
      .nullable()
      .meta({ description: "One sender: whether Stripe's own failed-payment emails are on (null: Stripe's API does not say) and which to turn off; null when not connected." }),
    backfill: z.array(z.object({ object: z.string(), status: z.string(), imported: Int, since: Timestamp.nullable(), last_error: z.string().nullable(), finished_at: Timestamp.nullable() })),
    handback: z.object({
      held: Int,
      restoring: Int,
      restored: Int,
      not_handed_back: z.array(z.object({ invoice: z.string(), payment: z.string().nullable(), auto_advance: z.boolean().nullable(), reason: z.string().nullable() })),
    }),
  })
  .meta({ id: 'StripeConnection' });

// Revtain's recovery, Lift and prediction answers.
export * from './responses-revtain.ts';

// The settings page's keys and previews, and the widget's settings.
export * from './responses-settings.ts';
