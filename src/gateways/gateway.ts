import type { CardBrand } from '../domain/decline-types.ts';

// One interface for every way Rescue charges a payment method. Calls are batched because the
// worker and test clocks run many due attempts at once; an adapter may still send them one by one.

export interface ChargeRequest {
  accountId: string;
  livemode: boolean;
  attemptId: string;
  /** Derived from the attempt, so a repeated call for the same attempt can never charge twice. */
  idempotencyKey: string;
  /** The clock's time of the attempt (a test clock's time in sandbox backtests). */
  attemptedAt: Date;
  /** 0 for the payment's first attempt, then 1, 2… for retries. */
  retryNumber: number;
  /** When the payment first failed (null on the first attempt). */
  firstFailureAt: Date | null;
  payment: { id: string; amount: number; currency: string; metadata: Record<string, string> };
  customer: { id: string; email: string | null; name: string | null; timezone: string } | null;
  paymentMethod: string;
  /** card, apple_pay, google_pay, paypal or venmo (a hand-off's paymentMethodType); card otherwise. */
  paymentMethodType?: string;
}

export type ChargeResult =
  | { status: 'succeeded'; transactionId: string }
  | {
      status: 'failed';
      declineCode: string;
      message: string;
      adviceCode: string | null;
      /**
       * The merchant's answer named a new payment method that replaced the declined one (e.g. its own
       * account updater found the reissued card): the rescue moves to it and retries at once.
       */
      updatedPaymentMethod?: string | undefined;
    }
  /**
   * No answer (timeout, 5xx, unreadable body): the charge may or may not have happened, so the
   * same attempt is asked again later under the same idempotency key — never a new one.
   */
  | { status: 'unknown'; reason: string };

/**
 * A request the gateway never sent because the worker is stopping (ChargeOptions.stopping): nothing
 * happened under its key, so the attempt is handed back to be claimed again at once.
 */
export interface NotSent {
  status: 'not_sent';
}

export interface ChargeOptions {
  /** Aborted when the worker stops: requests not yet sent are answered `not_sent`; those in flight run on. */
  stopping?: AbortSignal | undefined;
  /** Told at once which requests will not be sent (their results, `not_sent`, come with the batch's). */
  notSent?: ((requests: readonly ChargeRequest[]) => void) | undefined;
}

export interface CardDetails {
  brand: CardBrand;
  funding: string;
  country: string | null;
  last4: string | null;
  expMonth: number | null;
  expYear: number | null;
  /** Identifies the card across payment methods, for per-card network limits. */
  fingerprint: string;
}

export interface Gateway {
  readonly type: 'sandbox' | 'http' | 'stripe';
  charge(requests: readonly ChargeRequest[], o?: ChargeOptions): Promise<(ChargeResult | NotSent)[]>;
  describeCard(paymentMethod: string): CardDetails;
  /** Asks the card network for a replacement card (account updater); null when none. */
  accountUpdater(paymentMethod: string, at: Date): string | null;
  /** The sandbox's word on how it reads a token it does not know as written (sandbox/token-note.ts); real gateways have none. */
  sandboxNote?(paymentMethod: string): string | null;
}
