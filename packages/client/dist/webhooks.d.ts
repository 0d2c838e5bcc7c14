import { RescueError } from './errors.js';
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;
export declare class WebhookSignatureError extends RescueError {
    name: string;
    constructor(message: string);
}
/**
 * Returns the event when `payload` (the raw request body, as received) was signed with `secret`
 * within the last five minutes; throws WebhookSignatureError otherwise.
 */
export declare function verifyWebhook<T = {
    id: string;
    type: string;
    data: Record<string, unknown>;
}>(payload: string | Uint8Array, headers: WebhookHeaders, secret: string, now?: Date): Promise<T>;
