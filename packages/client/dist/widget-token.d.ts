export interface WidgetTokenParams {
    /** The account's widget secret, `wsec_…` (POST /v2/settings/widget/rotate_secret). Keep it on your server. */
    secret: string;
    /** The customer whose open payments the widget shows (Rescue's customer id). */
    customer: string;
    /** When the token stops working; Rescue refuses tokens living more than 24 hours. */
    expiresAt: Date;
}
/**
 * A token for one customer's widget (`/api/widget/insights?token=…`), valid until `expiresAt`.
 * Make one per page view with a few minutes' life; never put the secret itself in a page.
 */
export declare function widgetToken(params: WidgetTokenParams): Promise<string>;
