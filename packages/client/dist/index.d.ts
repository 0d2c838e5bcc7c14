import type { Operations, Schemas } from './types.js';
import { verifyWebhook } from './webhooks.js';
export * from './errors.js';
export type { Operations, Schemas } from './types.js';
export { WebhookSignatureError, type WebhookHeaders } from './webhooks.js';
export { widgetToken, type WidgetTokenParams } from './widget-token.js';
export type Payment = Schemas['Payment'];
export type Customer = Schemas['Customer'];
export type TestClock = Schemas['TestClock'];
export type Event = Schemas['Event'];
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type Recovery = Schemas['Recovery'];
type Op = keyof Operations;
type BodyOf<K extends Op> = Operations[K] extends {
    body: infer B;
} ? B : never;
type QueryOf<K extends Op> = Operations[K] extends {
    query: infer Q;
} ? Q : never;
export interface List<T> {
    object: 'list';
    url: string;
    data: T[];
    has_more: boolean;
}
export interface RescueOptions {
    /** A secret key: sk_test_… or sk_live_…. */
    apiKey: string;
    /** Where your Rescue listens, e.g. http://127.0.0.1:4000. */
    baseUrl: string;
    /** How often a request is sent again after a network error or a 5xx, under the same Idempotency-Key (default 2). */
    maxNetworkRetries?: number;
    /** A fetch implementation (the global fetch by default). */
    fetch?: typeof fetch;
}
export interface RequestOptions {
    /** Sent as Idempotency-Key. POSTs get a random one when none is given, so a retried request never charges twice. */
    idempotencyKey?: string;
}
/**
 * A page that is also every item: `await` it for one page (`.data`, `.has_more`), or
 * `for await (const x of …)` to walk all pages.
 */
export type ListPromise<T> = Promise<List<T>> & AsyncIterable<T>;
export declare class Rescue {
    #private;
    readonly payments: Payments;
    readonly customers: Customers;
    readonly testClocks: TestClocks;
    readonly webhookEndpoints: WebhookEndpoints;
    readonly events: Events;
    readonly recovery: RecoveryApi;
    readonly predict: Predict;
    readonly webhooks: {
        verify: typeof verifyWebhook;
    };
    constructor(options: RescueOptions);
}
declare class Http {
    #private;
    constructor(o: RescueOptions);
    request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, o?: {
        body?: unknown;
        query?: object;
        options?: RequestOptions;
    }): Promise<T>;
    list<T>(path: string, query?: object): ListPromise<T>;
}
declare class Resource {
    protected readonly http: Http;
    constructor(http: Http);
}
declare class Payments extends Resource {
    /** Charges now; a retryable decline starts Auto Rescue (`status: 'requires_rescue'`). */
    create(params: BodyOf<'POST /v2/payments'>, options?: RequestOptions): Promise<{
        id: string;
        object: "payment";
        amount: number;
        currency: string;
        status: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
        customer: string | null;
        payment_method: string;
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
        sandbox_note?: string;
        created_at: string;
    }>;
    retrieve(id: string): Promise<{
        id: string;
        object: "payment";
        amount: number;
        currency: string;
        status: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
        customer: string | null;
        payment_method: string;
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
        sandbox_note?: string;
        created_at: string;
    }>;
    list(params?: QueryOf<'GET /v2/payments'>): ListPromise<{
        id: string;
        object: "payment";
        amount: number;
        currency: string;
        status: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
        customer: string | null;
        payment_method: string;
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
        sandbox_note?: string;
        created_at: string;
    }>;
    cancelRescue(id: string, options?: RequestOptions): Promise<{
        id: string;
        object: "payment";
        amount: number;
        currency: string;
        status: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
        customer: string | null;
        payment_method: string;
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
        sandbox_note?: string;
        created_at: string;
    }>;
    retryNow(id: string, options?: RequestOptions): Promise<{
        id: string;
        object: "payment";
        amount: number;
        currency: string;
        status: "processing" | "succeeded" | "requires_rescue" | "rescue_in_progress" | "failed" | "rescue_cancelled";
        customer: string | null;
        payment_method: string;
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
        sandbox_note?: string;
        created_at: string;
    }>;
    /** The customer's new payment method, from your own update-payment page. */
    updatePaymentMethod(id: string, params: BodyOf<'POST /v2/payments/{id}/payment_method'>, options?: RequestOptions): Promise<{
        object: "payment_method_update";
        outcome: string;
        retry_at: string | null;
        payment: Schemas["Payment"];
    }>;
}
declare class Customers extends Resource {
    create(params?: BodyOf<'POST /v2/customers'>, options?: RequestOptions): Promise<{
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
    }>;
    retrieve(id: string): Promise<{
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
    }>;
    list(params?: QueryOf<'GET /v2/customers'>): ListPromise<{
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
    }>;
}
declare class TestClocks extends Resource {
    create(params: BodyOf<'POST /v2/test_clocks'>, options?: RequestOptions): Promise<{
        id: string;
        object: "test_clock";
        frozen_time: number;
        name: string | null;
        status: "ready" | "advancing";
        livemode: boolean;
        created_at: string;
    }>;
    retrieve(id: string): Promise<{
        id: string;
        object: "test_clock";
        frozen_time: number;
        name: string | null;
        status: "ready" | "advancing";
        livemode: boolean;
        created_at: string;
    }>;
    list(params?: QueryOf<'GET /v2/test_clocks'>): ListPromise<{
        id: string;
        object: "test_clock";
        frozen_time: number;
        name: string | null;
        status: "ready" | "advancing";
        livemode: boolean;
        created_at: string;
    }>;
    /** Starts moving the clock; it is `advancing` until the retries due by then have run, then `ready`. */
    advance(id: string, params: BodyOf<'POST /v2/test_clocks/{id}/advance'>, options?: RequestOptions): Promise<{
        id: string;
        object: "test_clock";
        frozen_time: number;
        name: string | null;
        status: "ready" | "advancing";
        livemode: boolean;
        created_at: string;
    }>;
}
declare class WebhookEndpoints extends Resource {
    /** The answer carries the signing secret; it is not shown again. */
    create(params: BodyOf<'POST /v2/webhook_endpoints'>, options?: RequestOptions): Promise<{
        id: string;
        object: "webhook_endpoint";
        url: string;
        description: string | null;
        enabled_events: string[];
        status: "enabled" | "disabled";
        disabled_reason: ("requested" | "failing") | null;
        secret: string | null;
        previous_secret_expires_at: string | null;
        livemode: boolean;
        created_at: string;
        updated_at: string;
    }>;
    retrieve(id: string): Promise<{
        id: string;
        object: "webhook_endpoint";
        url: string;
        description: string | null;
        enabled_events: string[];
        status: "enabled" | "disabled";
        disabled_reason: ("requested" | "failing") | null;
        secret: string | null;
        previous_secret_expires_at: string | null;
        livemode: boolean;
        created_at: string;
        updated_at: string;
    }>;
    list(params?: QueryOf<'GET /v2/webhook_endpoints'>): ListPromise<{
        id: string;
        object: "webhook_endpoint";
        url: string;
        description: string | null;
        enabled_events: string[];
        status: "enabled" | "disabled";
        disabled_reason: ("requested" | "failing") | null;
        secret: string | null;
        previous_secret_expires_at: string | null;
        livemode: boolean;
        created_at: string;
        updated_at: string;
    }>;
    update(id: string, params: BodyOf<'POST /v2/webhook_endpoints/{id}'>, options?: RequestOptions): Promise<{
        id: string;
        object: "webhook_endpoint";
        url: string;
        description: string | null;
        enabled_events: string[];
        status: "enabled" | "disabled";
        disabled_reason: ("requested" | "failing") | null;
        secret: string | null;
        previous_secret_expires_at: string | null;
        livemode: boolean;
        created_at: string;
        updated_at: string;
    }>;
    del(id: string): Promise<{
        id: string;
        object: string;
        deleted: true;
    }>;
    rotateSecret(id: string, options?: RequestOptions): Promise<{
        id: string;
        object: "webhook_endpoint";
        url: string;
        description: string | null;
        enabled_events: string[];
        status: "enabled" | "disabled";
        disabled_reason: ("requested" | "failing") | null;
        secret: string | null;
        previous_secret_expires_at: string | null;
        livemode: boolean;
        created_at: string;
        updated_at: string;
    }>;
    listDeliveries(id: string, params?: QueryOf<'GET /v2/webhook_endpoints/{id}/deliveries'>): ListPromise<{
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
    }>;
}
declare class Events extends Resource {
    retrieve(id: string): Promise<{
        id: string;
        object: "event";
        type: string;
        api_version: string;
        created_at: string;
        livemode: boolean;
        data: Record<string, unknown>;
    }>;
    /** `type` takes a family too (`recovery.*`); `created[gte]`/`created[lte]` take Unix seconds or ISO 8601. */
    list(params?: QueryOf<'GET /v2/events'>): ListPromise<{
        id: string;
        object: "event";
        type: string;
        api_version: string;
        created_at: string;
        livemode: boolean;
        data: Record<string, unknown>;
    }>;
    resend(id: string, params?: BodyOf<'POST /v2/events/{id}/resend'>, options?: RequestOptions): Promise<{
        object: "list";
        url: string;
        data: Schemas["WebhookDelivery"][];
        has_more: boolean;
    }>;
}
declare class RecoveryApi extends Resource {
    /**
     * Revtain's hand-off. Resolves with the 200 answer (`recovered: true`) or the 202 one
     * (`queued: true`); a blocked hand-off (403) rejects with a CardError and a used idempotencyKey
     * (409) with an IdempotencyError, each carrying the answer's fields in `.body`.
     */
    execute(params: BodyOf<'POST /api/recovery/execute'>, options?: RequestOptions): Promise<{
        success: false;
        queued: true;
        message: string;
        recoveryId: string;
        nextRetryAt: string | null;
        recoveryScore: number;
        recovery: Schemas["Recovery"];
    } | {
        success: true;
        recovered: true;
        transactionId: string | null;
        recoveryId: string;
        attempts: number;
        message: string;
        recovery: Schemas["Recovery"];
    }>;
    /** Logs an organic success so Lift can be computed; idempotent on transactionId. */
    pulse(params: BodyOf<'POST /api/recovery/pulse'>, options?: RequestOptions): Promise<{
        success: true;
        duplicate: boolean;
        transactionId: string;
        amount: number;
        currency: string;
        recordedAt: string;
    }>;
    retrieve(id: string): Promise<{
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
    }>;
    lift(params?: QueryOf<'GET /api/recovery/lift'>): Promise<{
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
            failedRecoveredCount: number;
            failedRecoveredRevenue: number;
            recoveryRate: number | null;
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
                failedRecoveredCount: number;
                failedRecoveredRevenue: number;
                recoveryRate: number | null;
                recoveryRateByAmount: number | null;
            }[];
        }[];
        success: true;
    }>;
    dashboard(params?: QueryOf<'GET /api/dashboard'>): Promise<{
        success: true;
        object: "dashboard";
        livemode: boolean;
        currency: string | null;
        currencies: string[];
        lift: {
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
                failedRecoveredCount: number;
                failedRecoveredRevenue: number;
                recoveryRate: number | null;
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
                    failedRecoveredCount: number;
                    failedRecoveredRevenue: number;
                    recoveryRate: number | null;
                    recoveryRateByAmount: number | null;
                }[];
            }[];
        };
        paymentMethodTypes: {
            type: string;
            handOffs: number;
            decided: number;
            recovered: number;
            recoveryRate: number | null;
        }[];
        experiment: {
            controlGroupPercent: number;
            treatment: {
                handOffs: number;
                decided: number;
                pending: number;
                recovered: number;
                recoveryRate: number | null;
                recoveredRevenue: Record<string, number>;
            };
            control: {
                handOffs: number;
                decided: number;
                pending: number;
                recovered: number;
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
        mrrRecovered: {
            month: string;
            currency: string;
            recoveredCount: number;
            recoveredRevenue: number;
        }[];
        retrySuccessByAttempt: {
            attempt: number;
            made: number;
            succeeded: number;
            successRate: number | null;
        }[];
        recoveryByDeclineCode: {
            declineCode: string;
            declineCategory: string;
            failed: number;
            recovered: number;
            recoveryRate: number | null;
        }[];
        recoveryByDeclineCategory: {
            declineCategory: string;
            failed: number;
            recovered: number;
            recoveryRate: number | null;
        }[];
        recoveredInPeriod: number;
        averageDaysToRecover: number | null;
        medianDaysToRecover: number | null;
        customersAtRisk: {
            customer: string;
            email: string | null;
            name: string | null;
            activeRescues: number;
            churnScore: number;
            churnProbability: number;
            topDriver: string | null;
        }[];
        webhookHealth: {
            succeeded: number;
            failed: number;
            pending: number;
            successRate: number | null;
            endpoints: number;
            disabledEndpoints: number;
        };
    }>;
}
declare class Predict extends Resource {
    risk(params: BodyOf<'POST /api/predict/risk'>, options?: RequestOptions): Promise<{
        success: true;
        prediction: {
            riskScore: number;
            recommendation: "proceed" | "proceed_with_caution" | "delay" | "block";
            reasoning: string;
        };
    }>;
    churn(params: BodyOf<'POST /api/predict/churn'>, options?: RequestOptions): Promise<{
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
    }>;
    retryTime(params: BodyOf<'POST /api/predict/retry-time'>, options?: RequestOptions): Promise<{
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
    }>;
}
