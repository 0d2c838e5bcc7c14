// The customer-portal widget's token, made on the merchant's server: the same token as Rescue's
// src/domain/widget-token.ts makes for the same inputs, byte for byte. Format:
// `wt1.<base64url JSON {k, c, exp}>.<base64url HMAC-SHA256 of "wt1.<body>", keyed with the secret>`,
// `k` being the key id inside the secret (`wsec_<key id>_<random>`). Web Crypto rather than
// node:crypto, so it runs in Node 20+ and browsers alike; hence it is async.
const SECRET = /^wsec_([A-Za-z0-9]{24})_([A-Za-z0-9_-]{32,})$/;
/**
 * A token for one customer's widget (`/api/widget/insights?token=…`), valid until `expiresAt`.
 * Make one per page view with a few minutes' life; never put the secret itself in a page.
 */
export async function widgetToken(params) {
    const keyId = SECRET.exec(params?.secret ?? '')?.[1];
    if (!keyId)
        throw new TypeError('widgetToken: not a widget secret (wsec_…): create one with POST /v2/settings/widget/rotate_secret');
    if (typeof params.customer !== 'string' || params.customer === '')
        throw new TypeError('widgetToken: customer is required');
    const ms = params.expiresAt instanceof Date ? params.expiresAt.getTime() : Number.NaN;
    if (!Number.isFinite(ms))
        throw new TypeError('widgetToken: expiresAt must be a valid Date');
    const utf8 = new TextEncoder();
    const body = base64url(utf8.encode(JSON.stringify({ k: keyId, c: params.customer, exp: Math.floor(ms / 1000) })));
    const signed = `wt1.${body}`;
    const key = await globalThis.crypto.subtle.importKey('raw', utf8.encode(params.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, utf8.encode(signed)));
    return `${signed}.${base64url(mac)}`;
}
function base64url(bytes) {
    let binary = '';
    for (const b of bytes)
        binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
