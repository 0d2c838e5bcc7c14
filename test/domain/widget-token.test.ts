import { describe, expect, it } from 'vitest';
import { readWidgetToken, verifyWidgetToken, widgetKeyId, widgetToken } from '../../src/domain/widget-token.ts';

// The token a merchant's server makes for the portal widget (the client library wraps widgetToken).

const SECRET = `wsec_${'A1b2C3d4E5f6G7h8I9j0K1l2'}_${'s'.repeat(43)}`;
const NOW = new Date('2026-06-01T09:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);

describe('widget tokens', () => {
  it('round-trips: the key id and customer read back, verified with the secret', () => {
    const token = widgetToken({ secret: SECRET, customer: 'cus_123', expiresAt: later(600_000) });
    expect(token).toMatch(/^wt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(readWidgetToken(token)).toEqual({ keyId: 'A1b2C3d4E5f6G7h8I9j0K1l2', customer: 'cus_123', expiresAt: new Date('2026-06-01T09:10:00Z') });
    expect(verifyWidgetToken(token, SECRET, NOW)?.customer).toBe('cus_123');
    expect(widgetKeyId(SECRET)).toBe('A1b2C3d4E5f6G7h8I9j0K1l2');
  });

  it('refuses another secret, a changed customer, an expired or too long-lived token, and garbage', () => {
    const token = widgetToken({ secret: SECRET, customer: 'cus_123', expiresAt: later(600_000) });
    const other = `wsec_${'A1b2C3d4E5f6G7h8I9j0K1l2'}_${'t'.repeat(43)}`;
    expect(verifyWidgetToken(token, other, NOW)).toBeNull();
    const [tag, body, sig] = token.split('.');
    const swapped = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), c: 'cus_999' })).toString('base64url');
    expect(verifyWidgetToken(`${tag}.${swapped}.${sig}`, SECRET, NOW)).toBeNull();
    expect(verifyWidgetToken(token, SECRET, later(600_000))).toBeNull();
    expect(verifyWidgetToken(widgetToken({ secret: SECRET, customer: 'c', expiresAt: later(2 * 86_400_000) }), SECRET, NOW)).toBeNull();
    for (const junk of ['', 'wt1', 'wt1..', 'wt2.e30.AA', `wt1.${Buffer.from('[]').toString('base64url')}.AA`]) expect(verifyWidgetToken(junk, SECRET, NOW)).toBeNull();
    expect(() => widgetToken({ secret: 'sk_test_nope', customer: 'c', expiresAt: later(1000) })).toThrow(/not a widget secret/);
  });
});
