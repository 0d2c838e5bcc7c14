import { describe, expect, it } from 'vitest';
import { methodWindowEnd, movesToNextMethod, MAX_RECOVERY_DAYS } from '../../src/domain/cascade.ts';
import { classifyDecline } from '../../src/domain/decline-taxonomy.ts';
import { defaultTokenPrefixes, routeToken, TOKEN_PREFIXES_BY_GATEWAY_TYPE } from '../../src/domain/gateway-routing.ts';

const gateways = [
  { name: 'stripe_eu', tokenPrefixes: ['pm_', 'card_', 'src_'] },
  { name: 'wallets', tokenPrefixes: ['pm_wallet_'] },
];

describe('routing a token to its gateway', () => {
  it('an explicit gateway wins; else the longest prefix; else the default', () => {
    expect(routeToken('pm_123', 'wallets', gateways)).toEqual({ gateway: 'wallets', by: 'explicit' });
    expect(routeToken('pm_123', 'default', gateways)).toEqual({ gateway: null, by: 'explicit' });
    expect(routeToken('pm_123', null, gateways)).toEqual({ gateway: 'stripe_eu', by: 'token_prefix' });
    expect(routeToken('pm_wallet_9', null, gateways)).toEqual({ gateway: 'wallets', by: 'token_prefix' });
    expect(routeToken('card_1', undefined, gateways)).toEqual({ gateway: 'stripe_eu', by: 'token_prefix' });
    expect(routeToken('tok_1', null, gateways)).toEqual({ gateway: null, by: 'default' });
    expect(routeToken('pm_123', null, [])).toEqual({ gateway: null, by: 'default' });
  });

  it('knows Stripe\'s token shapes as data, for when a stripe gateway is configured', () => {
    expect(TOKEN_PREFIXES_BY_GATEWAY_TYPE.stripe).toEqual(['pm_', 'card_', 'src_']);
    expect(defaultTokenPrefixes('stripe')).toEqual(['pm_', 'card_', 'src_']);
    expect(defaultTokenPrefixes('http')).toEqual([]);
    expect(defaultTokenPrefixes('sandbox')).toEqual([]);
  });
});

describe('moving to the next payment method', () => {
  it('happens on every end but a hard decline', () => {
    expect(movesToNextMethod('max_retries', classifyDecline({ code: 'insufficient_funds' }))).toBe(true);
    expect(movesToNextMethod('window_closed', null)).toBe(true);
    expect(movesToNextMethod('network_rule', null)).toBe(true);
    expect(movesToNextMethod('hard_decline', classifyDecline({ code: 'stolen_card' }))).toBe(false);
    expect(movesToNextMethod('max_retries', classifyDecline({ code: 'lost_card' }))).toBe(false);
  });

  it('gives the next method a fresh window, cut at 60 days after the hand-off', () => {
    const start = new Date('2026-01-01T00:00:00Z');
    const day = 86_400_000;
    expect(methodWindowEnd(new Date(start.getTime() + 10 * day), 14, start)).toEqual(new Date(start.getTime() + 24 * day));
    expect(MAX_RECOVERY_DAYS).toBe(60);
    expect(methodWindowEnd(new Date(start.getTime() + 50 * day), 14, start)).toEqual(new Date(start.getTime() + 60 * day));
  });
});
