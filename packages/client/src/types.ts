// Generated from Rescue's /openapi.json by scripts/client-types.ts — do not edit.
// test/client/client-types.test.ts fails when this file and the served document disagree.

export interface Schemas {
  ApiKey: {
    id: string;
    object: "api_key";
    livemode: boolean;
    /** The key by its last four characters, e.g. sk_test_…a1b2. */
    hint: string;
    /** The whole secret: only in the answer that creates or rolls the key, null everywhere else. */
    secret: string | null;
    created_at: string;
  };
  AutoRescueSettings: {
    object: "auto_rescue_settings";
    livemode: boolean;
    enabled: boolean;
    max_retries: number;
    retry_window_days: number;
    retry_schedule: "automatic" | "custom";
    custom_schedule_days: number[] | null;
    notify_customer: boolean;
    check_account_updater: boolean;
    learned: boolean;
    daily_churn_hazard: number;
    qualifying: {
      subscription_payments: boolean;
      off_session_payments: boolean;
      amount_over: number | null;
    };
  };
  ChurnPrediction: {
    success: true;
    prediction: {
      customer: string;
      churnProbability: number;
      score: number;
      drivers: {
        feature: string;
        value: number;
        effect: number;
        description: string;
      }[];
      reasoning: string;
      model: {
        source: "prior" | "account";
        examples: number;
        labels: string;
      };
    };
  };
  Customer: {
    id: string;
    object: "customer";
    email: string | null;
    name: string | null;
    timezone: string;
    locale: string | null;
    metadata: Record<string, string>;
    test_clock: string | null;
    livemode: boolean;
    created_at: string;
  };
  Deleted: {
    id: string;
    object: string;
    deleted: true;
  };
  DunningSettings: {
    object: "dunning_settings";
    livemode: boolean;
    enabled: boolean;
    from_name: string | null;
    reply_to: string | null;
    emails: {
      payment_failed: boolean;
      retry_reminder: boolean;
      rescue_failed: boolean;
      payment_recovered: boolean;
      card_expiring: boolean;
    };
    update_payment_url: string | null;
    logo_url: string | null;
    brand_color: string | null;
    default_locale: string | null;
  };
  Email: {
    id: string;
    object: "email";
    livemode: boolean;
    kind: "payment_failed" | "retry_reminder" | "rescue_failed" | "payment_recovered" | "card_expiring";
    status: "queued" | "sent" | "failed";
    to: string;
    subject: string;
    text: string;
    html: string;
    payment: string | null;
    customer: string | null;
    transport: string | null;
    attempts: number;
    created_at: string;
    sent_at: string | null;
    error: string | null;
  };
  EmailPreview: {
    object: "email_preview";
    livemode: boolean;
    locale: string | null;
    kind: string;
    from_name: string;
    reply_to: string | null;
    subject: string;
    text: string;
    html: string;
  };
  /** A Stripe-style error. Revtain routes add their own fields beside `error` (success, blocked, duplicate, recoveryId…). */
  Error: {
    error: {
      type: "invalid_request_error" | "authentication_error" | "idempotency_error" | "card_error" | "api_error" | "rate_limit_error";
      code: string;
      message: string;
      param?: string | null;
    };
    [key: string]: unknown;
  };
  Event: {
    id: string;
    object: "event";
    type: string;
    api_version: string;
    created_at: string;
    livemode: boolean;
    data: Record<string, unknown>;
  };
  Gateway: {
    object: "gateway";
    name: string;
    default: boolean;
    livemode: boolean;
    type: "none" | "sandbox" | "http" | "stripe";
    url?: string;
    /** In full once, when saved; its first 10 characters otherwise. */
    secret?: string;
    token_prefixes: string[];
  };
  GatewaySettings: {
    object: "gateway_settings";
    livemode: boolean;
    type: "none" | "sandbox" | "http" | "stripe";
    url?: string;
    /** In full once, when saved; its first 10 characters otherwise. */
    secret?: string;
  };
  LiftAnswer: {
    object: "lift";
    from: string;
    to: string;
    interval: "day" | "week" | "month";
    totals: {
      currency: string;
      organicRevenue: number;
      organicCount: number;
      recoveredRevenue: number;
      recoveredCount: number;
      liftPercent: number | null;
      failedRevenue: number;
      failedCount: number;
      /** Of the payments whose first attempt failed in the period, how many are recovered by now. */
      failedRecoveredCount: number;
      /** Their amount. */
      failedRecoveredRevenue: number;
      recoveryRate: number | null;
      /** failedRecoveredRevenue / failedRevenue, in percent. */
      recoveryRateByAmount: number | null;
    }[];
    periods: {
      start: string;
      end: string;
      currencies: {
        currency: string;
        organicRevenue: number;
        organicCount: number;
        recoveredRevenue: number;
        recoveredCount: number;
        liftPercent: number | null;
        failedRevenue: number;
        failedCount: number;
        /** Of the payments whose first attempt failed in the period, how many are recovered by now. */
        failedRecoveredCount: number;
        /** Their amount. */
        failedRecoveredRevenue: number;
        recoveryRate: number | null;
        /** failedRecoveredRevenue / failedRevenue, in percent. */
        recoveryRateByAmount: number | null;
      }[];
    }[];
    success: true;
  };
  Payment: {
    id: string;
    object: "payment";
    amount: number;
    currency: string;
    status: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
    customer: string | null;
    payment_method: string;
    /** Stripe's shape: the card of the latest attempt as brand and last 4 (never the token); null before the first attempt. */
    payment_method_details: {
      type: string;
      card: {
        brand: string;
        last4: string | null;
      };
    } | null;
    failure_code: string | null;
    failure_message: string | null;
    auto_rescue: {
      enabled: boolean;
      status: "pending" | "not_needed" | "not_retryable" | "disabled" | "active" | "recovered" | "exhausted" | "cancelled";
      attempts_made: number;
      max_retries: number | null;
      retry_window_ends_at?: string;
      recovered_at?: string | null;
      ended_at?: string | null;
      end_reason?: string | null;
      cancelled_at?: string | null;
    };
    rescue_schedule: {
      next_retry_at: string | null;
      retry_number: number | null;
      waiting_for_new_card: boolean;
      scheduled_retries: {
        retry_number: number;
        scheduled_at: string;
        predicted_p?: number;
        reason?: string | null;
      }[];
    } | null;
    rescue_history: {
      attempt: number;
      attempted_at: string | null;
      result: "succeeded" | "failed";
      failure_code?: string | null;
    }[];
    off_session: boolean;
    livemode: boolean;
    metadata: Record<string, string>;
    test_clock: string | null;
    /** Test mode, sandbox only: how the sandbox card network read a token it does not know as written (an unknown token is approved). */
    sandbox_note?: string;
    created_at: string;
  };
  PaymentMethodUpdate: {
    object: "payment_method_update";
    outcome: string;
    retry_at: string | null;
    payment: Schemas['Payment'];
  };
  PredictionSettings: {
    object: "prediction_settings";
    livemode: boolean;
    risk_threshold: number;
  };
  Pulse: {
    success: true;
    duplicate: boolean;
    transactionId: string;
    amount: number;
    currency: string;
    recordedAt: string;
  };
  Recovery: {
    id: string;
    object: "recovery";
    status: "processing" | "queued" | "retrying" | "recovered" | "blocked" | "failed" | "cancelled";
    amount: number;
    currency: string;
    originalDeclineCode: string | null;
    declineCategory: string;
    lastDeclineCode: string | null;
    paymentMethodType: string;
    cardOrigin: string | null;
    idempotencyKey: string | null;
    transactionId: string | null;
    attempts: number;
    maxRetries: number | null;
    nextRetryAt: string | null;
    scheduledRetries: {
      retryNumber: number;
      scheduledAt: string;
    }[];
    retryWindowEndsAt: string | null;
    endReason: string | null;
    endedAt: string | null;
    experimentGroup: ("treatment" | "control") | null;
    prediction: {
      recoveryScore: number;
      reasoning: string | null;
    };
    paymentMethods: {
      position: number;
      type: string;
      gateway: string;
      brand: string | null;
      last4: string | null;
      fingerprint: string | null;
      status: "pending" | "active" | "exhausted" | "succeeded" | "unused";
    }[];
    history: {
      attempt: number;
      attemptedAt: string | null;
      result: "succeeded" | "failed";
      declineCode: string | null;
      chargedBy: "merchant" | "rescue";
      paymentMethod: number;
      gateway: string;
    }[];
    payment: string;
    customer: string | null;
    metadata: Record<string, string>;
    livemode: boolean;
    createdAt: string;
  };
  /** 202: retries are planned; the result arrives as recovery.success, recovery.failed or recovery.blocked. */
  RecoveryQueued: {
    success: false;
    queued: true;
    message: string;
    recoveryId: string;
    nextRetryAt: string | null;
    recoveryScore: number;
    recovery: Schemas['Recovery'];
  };
  /** 200: recovered by an immediate retry. */
  RecoveryRecovered: {
    success: true;
    recovered: true;
    transactionId: string | null;
    recoveryId: string;
    attempts: number;
    message: string;
    recovery: Schemas['Recovery'];
  };
  RecoveryRetrieved: {
    id: string;
    object: "recovery";
    status: "processing" | "queued" | "retrying" | "recovered" | "blocked" | "failed" | "cancelled";
    amount: number;
    currency: string;
    originalDeclineCode: string | null;
    declineCategory: string;
    lastDeclineCode: string | null;
    paymentMethodType: string;
    cardOrigin: string | null;
    idempotencyKey: string | null;
    transactionId: string | null;
    attempts: number;
    maxRetries: number | null;
    nextRetryAt: string | null;
    scheduledRetries: {
      retryNumber: number;
      scheduledAt: string;
    }[];
    retryWindowEndsAt: string | null;
    endReason: string | null;
    endedAt: string | null;
    experimentGroup: ("treatment" | "control") | null;
    prediction: {
      recoveryScore: number;
      reasoning: string | null;
    };
    paymentMethods: {
      position: number;
      type: string;
      gateway: string;
      brand: string | null;
      last4: string | null;
      fingerprint: string | null;
      status: "pending" | "active" | "exhausted" | "succeeded" | "unused";
    }[];
    history: {
      attempt: number;
      attemptedAt: string | null;
      result: "succeeded" | "failed";
      declineCode: string | null;
      chargedBy: "merchant" | "rescue";
      paymentMethod: number;
      gateway: string;
    }[];
    payment: string;
    customer: string | null;
    metadata: Record<string, string>;
    livemode: boolean;
    createdAt: string;
    success: true;
  };
  RecoverySettings: {
    object: "recovery_settings";
    livemode: boolean;
    control_group_percent: number;
  };
  RetryTimePrediction: {
    success: true;
    prediction: {
      recommendedTime: string | null;
      probability: number;
      value: number;
      alternatives: {
        time: string;
        probability: number;
        value: number;
      }[];
      reasoning: string;
      schedule: {
        time: string;
        probability: number;
        reason: string;
      }[];
      model: string;
    };
  };
  RiskPrediction: {
    success: true;
    prediction: {
      riskScore: number;
      recommendation: "proceed" | "proceed_with_caution" | "delay" | "block";
      reasoning: string;
    };
  };
  SchedulePreview: {
    object: "schedule_preview";
    livemode: boolean;
    planner: "learned" | "automatic" | "custom";
    max_retries: number;
    retry_window_days: number;
    decline: {
      code: string;
      category: string;
      strategy: string;
      message: string;
    };
    failed_at: string;
    window_ends_at: string;
    stop_reason: string | null;
    scheduled_retries: {
      retry_number: number;
      scheduled_at: string;
      days_after_failure: number;
      predicted_p: number | null;
      reason: string | null;
    }[];
  };
  Signup: {
    account: {
      id: string;
      object: "account";
      email: string;
      business_name: string;
      created_at: string;
    };
    api_keys: {
      test: string;
      live: string;
    };
  };
  StripeConnection: {
    object: "stripe_connection";
    livemode: boolean;
    status: string;
    status_reason: string | null;
    kind: string | null;
    stripe_account: string | null;
    scope: string | null;
    mode: string | null;
    connected_at: string | null;
    token_refreshed_at: string | null;
    disconnected_at: string | null;
    billing_webhook: {
      url: string | null;
      secret_set: boolean;
    };
    notice: string | null;
    /** One sender: whether Stripe's own failed-payment emails are on (null: Stripe's API does not say) and which to turn off; null when not connected. */
    customer_emails: {
      stripe_failed_payment_emails: boolean | null;
      rescue_emails_enabled: boolean;
      settings_url: string;
      advice: string;
    } | null;
    backfill: {
      object: string;
      status: string;
      imported: number;
      since: string | null;
      last_error: string | null;
      finished_at: string | null;
    }[];
    handback: {
      held: number;
      restoring: number;
      restored: number;
      not_handed_back: {
        invoice: string;
        payment: string | null;
        auto_advance: boolean | null;
        reason: string | null;
      }[];
    };
  };
  StripeConnectLink: {
    object: "stripe_connect_link";
    livemode: boolean;
    mode: string;
    scope: string;
    url: string;
    expires_at: string;
  };
  TestCharge: {
    object: "test_charge";
    gateway: string;
    idempotency_key: string;
    status: "succeeded" | "failed" | "unknown";
    transaction_id: string | null;
    decline_code: string | null;
    message: string | null;
    latency_ms: number;
  };
  TestClock: {
    id: string;
    object: "test_clock";
    /** Unix seconds, as in the request that sets it. */
    frozen_time: number;
    name: string | null;
    status: "ready" | "advancing";
    livemode: boolean;
    created_at: string;
  };
  TestEmail: {
    object: "test_email";
    kind: string;
    to: string;
    subject: string;
    message_id: string | null;
  };
  WebhookDelivery: {
    id: string;
    object: "webhook_delivery";
    endpoint: string;
    event: string;
    event_type: string;
    status: "pending" | "succeeded" | "failed";
    attempts: number;
    response_status: number | null;
    latency_ms: number | null;
    error: string | null;
    next_retry_at: string | null;
    last_attempt_at: string | null;
    created_at: string;
    livemode: boolean;
  };
  WebhookEndpoint: {
    id: string;
    object: "webhook_endpoint";
    url: string;
    description: string | null;
    enabled_events: string[];
    status: "enabled" | "disabled";
    disabled_reason: ("requested" | "failing") | null;
    /** Shown when the endpoint is created and when its secret is rotated; null otherwise. */
    secret: string | null;
    previous_secret_expires_at: string | null;
    livemode: boolean;
    created_at: string;
    updated_at: string;
  };
  WidgetSecret: {
    object: "widget_secret";
    livemode: boolean;
    secret: string;
    created_at: string;
  };
  WidgetSettings: {
    object: "widget_settings";
    livemode: boolean;
    allowed_origins: string[];
    branding: {
      accent_color: string | null;
      logo_url: string | null;
    };
    secret_created_at: string | null;
  };
}

export interface Operations {
  'POST /signup': {
    body: {
      email: string;
      password: string;
      business_name: string;
    };
    response: Schemas['Signup'];
  };
  'POST /v2/customers': {
    body: {
      id?: string;
      email?: string | null;
      name?: string | null;
      timezone?: string;
      locale?: string | null;
      metadata?: Record<string, string>;
      test_clock?: string | null;
    };
    response: Schemas['Customer'];
  };
  'GET /v2/customers': {
    query: {
      limit?: number;
      starting_after?: string;
      q?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['Customer'][];
      has_more: boolean;
    };
  };
  'GET /v2/customers/{id}': {
    response: Schemas['Customer'];
  };
  'POST /v2/payments': {
    body: {
      amount: number;
      currency: string;
      customer?: string;
      payment_method: string;
      off_session?: boolean;
      auto_rescue?: {
        enabled?: boolean;
        max_retries?: number;
        retry_window_days?: number;
        retry_schedule?: "automatic" | "custom";
        custom_schedule_days?: number[];
        notify_customer?: boolean;
        check_account_updater?: boolean;
      };
      metadata?: Record<string, string>;
    };
    response: Schemas['Payment'];
  };
  'GET /v2/payments': {
    query: {
      limit?: number;
      starting_after?: string;
      status?: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
      customer?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['Payment'][];
      has_more: boolean;
    };
  };
  'GET /v2/payments/{id}': {
    response: Schemas['Payment'];
  };
  'POST /v2/payments/{id}/cancel_rescue': {
    response: Schemas['Payment'];
  };
  'POST /v2/payments/{id}/retry_now': {
    response: Schemas['Payment'];
  };
  'GET /v2/settings/auto_rescue': {
    response: Schemas['AutoRescueSettings'];
  };
  'POST /v2/settings/auto_rescue': {
    body: {
      enabled?: boolean;
      max_retries?: number;
      retry_window_days?: number;
      retry_schedule?: "automatic" | "custom";
      custom_schedule_days?: number[] | null;
      notify_customer?: boolean;
      check_account_updater?: boolean;
      learned?: boolean;
      daily_churn_hazard?: number;
      qualifying?: {
        subscription_payments?: boolean;
        off_session_payments?: boolean;
        amount_over?: number | null;
      };
    };
    response: Schemas['AutoRescueSettings'];
  };
  'GET /v2/settings/gateway': {
    response: Schemas['GatewaySettings'];
  };
  'POST /v2/settings/gateway': {
    body: {
      type: "sandbox";
    } | {
      type: "http";
      url: string;
      secret?: string;
    };
    response: Schemas['GatewaySettings'];
  };
  'GET /v2/settings/gateways': {
    response: {
      object: "list";
      url: string;
      data: Schemas['Gateway'][];
      has_more: boolean;
    };
  };
  'POST /v2/settings/gateways': {
    body: {
      name: string;
      token_prefixes?: string[];
      type: "sandbox";
    } | {
      name: string;
      token_prefixes?: string[];
      type: "http";
      url: string;
      secret?: string;
    };
    response: Schemas['Gateway'];
  };
  'GET /v2/settings/recovery': {
    response: Schemas['RecoverySettings'];
  };
  'POST /v2/settings/recovery': {
    body: {
      control_group_percent: number;
    };
    response: Schemas['RecoverySettings'];
  };
  'POST /v2/settings/auto_rescue/preview': {
    body: {
      enabled?: boolean;
      max_retries?: number;
      retry_window_days?: number;
      retry_schedule?: "automatic" | "custom";
      custom_schedule_days?: number[] | null;
      notify_customer?: boolean;
      check_account_updater?: boolean;
      learned?: boolean;
      daily_churn_hazard?: number;
      qualifying?: {
        subscription_payments?: boolean;
        off_session_payments?: boolean;
        amount_over?: number | null;
      };
      example?: {
        decline_code?: string;
        amount?: number;
        timezone?: string;
        failed_at?: number | string;
      };
    };
    response: Schemas['SchedulePreview'];
  };
  'POST /v2/settings/dunning/preview': {
    body: {
      kind: "payment_failed" | "retry_reminder" | "rescue_failed" | "payment_recovered" | "card_expiring";
      from_name?: string | null;
      reply_to?: string | null;
      logo_url?: string | null;
      brand_color?: string | null;
      locale?: string;
    };
    response: Schemas['EmailPreview'];
  };
  'POST /v2/settings/dunning/test_email': {
    body: {
      kind: "payment_failed" | "retry_reminder" | "rescue_failed" | "payment_recovered" | "card_expiring";
      from_name?: string | null;
      reply_to?: string | null;
      logo_url?: string | null;
      brand_color?: string | null;
      locale?: string;
    };
    response: Schemas['TestEmail'];
  };
  'POST /v2/settings/gateways/test_charge': {
    body: {
      gateway?: string;
    };
    response: Schemas['TestCharge'];
  };
  'GET /v2/api_keys': {
    response: {
      object: "list";
      url: string;
      data: Schemas['ApiKey'][];
      has_more: boolean;
    };
  };
  'POST /v2/api_keys': {
    response: Schemas['ApiKey'];
  };
  'POST /v2/api_keys/{id}/roll': {
    response: Schemas['ApiKey'];
  };
  'DELETE /v2/api_keys/{id}': {
    response: Schemas['Deleted'];
  };
  'POST /v2/test_clocks': {
    body: {
      frozen_time: number;
      name?: string;
    };
    response: Schemas['TestClock'];
  };
  'GET /v2/test_clocks': {
    query: {
      limit?: number;
      starting_after?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['TestClock'][];
      has_more: boolean;
    };
  };
  'GET /v2/test_clocks/{id}': {
    response: Schemas['TestClock'];
  };
  'POST /v2/test_clocks/{id}/advance': {
    body: {
      frozen_time: number;
    };
    response: Schemas['TestClock'];
  };
  'GET /v2/events': {
    query: {
      limit?: number;
      starting_after?: string;
      type?: string;
      "created[gte]"?: string;
      "created[lte]"?: string;
      object?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['Event'][];
      has_more: boolean;
    };
  };
  'GET /v2/events/{id}': {
    response: Schemas['Event'];
  };
  'POST /api/recovery/execute': {
    body: {
      paymentMethodToken: string;
      amount: number;
      currency: string;
      originalDeclineCode?: string | null;
      cardOrigin?: string | null;
      idempotencyKey?: string | null;
      paymentMethodType?: "card" | "apple_pay" | "google_pay" | "paypal" | "venmo";
      fallbackPaymentMethodTokens?: (string | {
        token: string;
        paymentMethodType?: "card" | "apple_pay" | "google_pay" | "paypal" | "venmo";
        gateway?: string;
      })[];
      gateway?: string;
      customer?: string;
      metadata?: Record<string, string>;
    };
    response: Schemas['RecoveryRecovered'] | Schemas['RecoveryQueued'];
  };
  'GET /api/recovery/{id}': {
    response: Schemas['RecoveryRetrieved'];
  };
  'POST /api/recovery/pulse': {
    body: {
      amount: number;
      currency: string;
      transactionId: string;
    };
    response: Schemas['Pulse'];
  };
  'GET /api/recovery/lift': {
    query: {
      from?: string;
      to?: string;
      interval?: "day" | "week" | "month";
    };
    response: Schemas['LiftAnswer'];
  };
  'GET /api/dashboard': {
    query: {
      from?: string;
      to?: string;
      interval?: "day" | "week" | "month";
      currency?: string;
    };
    response: {
      success: true;
      object: "dashboard";
      livemode: boolean;
      /** Every figure covers the period [from, to) in UTC; with currency, only payments in that currency. */
      currency: string | null;
      /** Every currency with payments or pulses in the period, whatever currency was asked for. */
      currencies: string[];
      lift: {
        object: "lift";
        from: string;
        to: string;
        interval: "day" | "week" | "month";
        totals: {
          currency: string;
          /** An amount in the currency's minor unit. */
          organicRevenue: number;
          organicCount: number;
          /** An amount in the currency's minor unit. */
          recoveredRevenue: number;
          recoveredCount: number;
          /** Lift: recovered revenue as a share of revenue paid at the first try, per currency. */
          liftPercent: number | null;
          /** An amount in the currency's minor unit. */
          failedRevenue: number;
          failedCount: number;
          failedRecoveredCount: number;
          /** An amount in the currency's minor unit. */
          failedRecoveredRevenue: number;
          /** Recovery rate by count: of the payments whose first attempt failed in the period, the share paid since (by a retry, a fallback card or a new card). Pending rescues count as not recovered yet. */
          recoveryRate: number | null;
          /** Recovery rate by amount: the same payments, weighted by their amounts: recovered amount ÷ failed amount. */
          recoveryRateByAmount: number | null;
        }[];
        periods: {
          start: string;
          end: string;
          currencies: {
            currency: string;
            /** An amount in the currency's minor unit. */
            organicRevenue: number;
            organicCount: number;
            /** An amount in the currency's minor unit. */
            recoveredRevenue: number;
            recoveredCount: number;
            /** Lift: recovered revenue as a share of revenue paid at the first try, per currency. */
            liftPercent: number | null;
            /** An amount in the currency's minor unit. */
            failedRevenue: number;
            failedCount: number;
            failedRecoveredCount: number;
            /** An amount in the currency's minor unit. */
            failedRecoveredRevenue: number;
            /** Recovery rate by count: of the payments whose first attempt failed in the period, the share paid since (by a retry, a fallback card or a new card). Pending rescues count as not recovered yet. */
            recoveryRate: number | null;
            /** Recovery rate by amount: the same payments, weighted by their amounts: recovered amount ÷ failed amount. */
            recoveryRateByAmount: number | null;
          }[];
        }[];
      };
      paymentMethodTypes: {
        type: string;
        handOffs: number;
        decided: number;
        recovered: number;
        /** A percentage to two decimals; null when nothing was counted. */
        recoveryRate: number | null;
      }[];
      /** Control group increment: percentage points the automatic policy recovers over the fixed schedule among finished hand-offs, with its 95% Newcombe interval. */
      experiment: {
        controlGroupPercent: number;
        treatment: {
          handOffs: number;
          decided: number;
          pending: number;
          recovered: number;
          /** A percentage to two decimals; null when nothing was counted. */
          recoveryRate: number | null;
          recoveredRevenue: Record<string, number>;
        };
        control: {
          handOffs: number;
          decided: number;
          pending: number;
          recovered: number;
          /** A percentage to two decimals; null when nothing was counted. */
          recoveryRate: number | null;
          recoveredRevenue: Record<string, number>;
        };
        incrementalRecoveryRate: {
          estimate: number;
          low: number;
          high: number;
          confidence: number;
          method: string;
        } | null;
        significant: boolean;
      };
      /** MRR recovered: per UTC month and currency, the sum of the amounts of payments whose rescue ended recovered in that month (each recovered renewal counted once, when it was recovered). */
      mrrRecovered: {
        /** YYYY-MM (UTC) */
        month: string;
        currency: string;
        recoveredCount: number;
        /** An amount in the currency's minor unit. */
        recoveredRevenue: number;
      }[];
      /** Retry success by attempt: attempts made in the period, by attempt number (1 is the first charge, 2 the first retry); success rate = succeeded ÷ made. */
      retrySuccessByAttempt: {
        /** 1 is the first charge, 2 the first retry */
        attempt: number;
        made: number;
        succeeded: number;
        /** A percentage to two decimals; null when nothing was counted. */
        successRate: number | null;
      }[];
      /** Recovery by decline: the payments whose first attempt failed in the period, grouped by that first decline code (and its category: soft, hard or technical); recovered = paid since. */
      recoveryByDeclineCode: {
        declineCode: string;
        declineCategory: string;
        failed: number;
        recovered: number;
        /** A percentage to two decimals; null when nothing was counted. */
        recoveryRate: number | null;
      }[];
      /** Recovery by decline: the payments whose first attempt failed in the period, grouped by that first decline code (and its category: soft, hard or technical); recovered = paid since. */
      recoveryByDeclineCategory: {
        declineCategory: string;
        failed: number;
        recovered: number;
        /** A percentage to two decimals; null when nothing was counted. */
        recoveryRate: number | null;
      }[];
      /** Rescues that ended recovered in the period (the days-to-recover population). */
      recoveredInPeriod: number;
      /** Days to recover: for rescues that ended recovered in the period, the days from the first failed attempt to the successful one; average and median (the middle value, the mean of the two middle ones for an even count). */
      averageDaysToRecover: number | null;
      /** Days to recover: for rescues that ended recovered in the period, the days from the first failed attempt to the successful one; average and median (the middle value, the mean of the two middle ones for an even count). */
      medianDaysToRecover: number | null;
      /** Customers at risk: customers with a rescue still running or one that began in the period, scored by the churn model of POST /api/predict/churn (the chance the customer is lost within 30 days), highest first. */
      customersAtRisk: {
        customer: string;
        email: string | null;
        name: string | null;
        activeRescues: number;
        /** 0-100: the churn probability × 100 */
        churnScore: number;
        churnProbability: number;
        topDriver: string | null;
      }[];
      /** Webhook health: deliveries created in the period, by status; success rate = succeeded ÷ (succeeded + failed), pending ones left out. */
      webhookHealth: {
        succeeded: number;
        failed: number;
        pending: number;
        /** A percentage to two decimals; null when nothing was counted. */
        successRate: number | null;
        endpoints: number;
        disabledEndpoints: number;
      };
    };
  };
  'POST /api/predict/risk': {
    body: {
      paymentMethodToken: string;
      amount: number;
      currency: string;
    };
    response: Schemas['RiskPrediction'];
  };
  'POST /api/predict/retry-time': {
    body: {
      declineCode: string;
      amount: number;
      currency: string;
      paymentMethodToken?: string;
      adviceCode?: string;
      failedAt?: number | string;
      timezone?: string;
      cardBrand?: "visa" | "mastercard" | "amex" | "discover" | "jcb" | "diners" | "unionpay" | "unknown";
      paymentMethodType?: "card" | "apple_pay" | "google_pay" | "paypal" | "venmo";
      cardFunding?: "credit" | "debit" | "prepaid" | "unknown";
      cardCountry?: string;
      cardWasUpdated?: boolean;
      customer?: string | {
        timezone?: string;
        createdAt?: number | string;
        recoveredPayments?: (number | string)[];
      };
      retriesMade?: number;
      maxRetries?: number;
      retryWindowDays?: number;
    };
    response: Schemas['RetryTimePrediction'];
  };
  'POST /api/predict/churn': {
    body: {
      customer: string;
    };
    response: Schemas['ChurnPrediction'];
  };
  'GET /v2/settings/prediction': {
    response: Schemas['PredictionSettings'];
  };
  'POST /v2/settings/prediction': {
    body: {
      risk_threshold: number;
    };
    response: Schemas['PredictionSettings'];
  };
  'POST /v2/webhook_endpoints': {
    body: {
      url: string;
      enabled_events: ("*" | "payment.rescue_started" | "payment.rescue_retry" | "payment.rescue_succeeded" | "payment.rescue_failed" | "payment.rescue_cancelled" | "recovery.success" | "recovery.failed" | "recovery.blocked" | "predict.risk.high" | "recovery_event" | "webhook_endpoint.disabled")[];
      description?: string | null;
    };
    response: Schemas['WebhookEndpoint'];
  };
  'GET /v2/webhook_endpoints': {
    query: {
      limit?: number;
      starting_after?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['WebhookEndpoint'][];
      has_more: boolean;
    };
  };
  'GET /v2/webhook_endpoints/{id}': {
    response: Schemas['WebhookEndpoint'];
  };
  'POST /v2/webhook_endpoints/{id}': {
    body: {
      url?: string;
      enabled_events?: ("*" | "payment.rescue_started" | "payment.rescue_retry" | "payment.rescue_succeeded" | "payment.rescue_failed" | "payment.rescue_cancelled" | "recovery.success" | "recovery.failed" | "recovery.blocked" | "predict.risk.high" | "recovery_event" | "webhook_endpoint.disabled")[];
      description?: string | null;
      disabled?: boolean;
    };
    response: Schemas['WebhookEndpoint'];
  };
  'DELETE /v2/webhook_endpoints/{id}': {
    response: Schemas['Deleted'];
  };
  'POST /v2/webhook_endpoints/{id}/rotate_secret': {
    response: Schemas['WebhookEndpoint'];
  };
  'GET /v2/webhook_endpoints/{id}/deliveries': {
    query: {
      limit?: number;
      starting_after?: string;
      status?: "pending" | "succeeded" | "failed";
      event?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['WebhookDelivery'][];
      has_more: boolean;
    };
  };
  'POST /v2/events/{id}/resend': {
    body: {
      endpoint?: string;
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['WebhookDelivery'][];
      has_more: boolean;
    };
  };
  'POST /v2/stripe/connect_links': {
    body: {
      mode?: "observe" | "active";
    };
    response: Schemas['StripeConnectLink'];
  };
  'GET /v2/stripe/connection': {
    response: Schemas['StripeConnection'];
  };
  'POST /v2/stripe/connection': {
    body: {
      mode?: "observe" | "active";
      api_key?: string;
      webhook_secret?: string | null;
    };
    response: Schemas['StripeConnection'];
  };
  'DELETE /v2/stripe/connection': {
    response: Schemas['StripeConnection'];
  };
  'GET /v2/settings/dunning': {
    response: Schemas['DunningSettings'];
  };
  'POST /v2/settings/dunning': {
    body: {
      enabled?: boolean;
      from_name?: string | null;
      reply_to?: string | null;
      emails?: {
        payment_failed?: boolean;
        retry_reminder?: boolean;
        rescue_failed?: boolean;
        payment_recovered?: boolean;
        card_expiring?: boolean;
      };
      update_payment_url?: string | null;
      logo_url?: string | null;
      brand_color?: string | null;
      default_locale?: string | null;
    };
    response: Schemas['DunningSettings'];
  };
  'GET /v2/emails': {
    query: {
      limit?: number;
      starting_after?: string;
      payment?: string;
      customer?: string;
      kind?: "payment_failed" | "retry_reminder" | "rescue_failed" | "payment_recovered" | "card_expiring";
      status?: "queued" | "sent" | "failed";
    };
    response: {
      object: "list";
      url: string;
      data: Schemas['Email'][];
      has_more: boolean;
    };
  };
  'GET /v2/emails/{id}': {
    response: Schemas['Email'];
  };
  'POST /v2/payments/{id}/payment_method': {
    body: {
      payment_method: string;
      link_token?: string;
    };
    response: Schemas['PaymentMethodUpdate'];
  };
  'GET /api/cron/dunning': {
    response: {
      object: "dunning_cron_run";
      count: number;
      sent: {
        id: string;
        kind: string;
        payment: string;
        to: string;
        status: string;
        transport: string | null;
      }[];
    };
  };
  'GET /v2/settings/widget': {
    response: Schemas['WidgetSettings'];
  };
  'POST /v2/settings/widget': {
    body: {
      allowed_origins?: string[];
      branding?: {
        accent_color?: string | null;
        logo_url?: string | null;
      };
    };
    response: Schemas['WidgetSettings'];
  };
  'POST /v2/settings/widget/rotate_secret': {
    response: Schemas['WidgetSecret'];
  };
}
