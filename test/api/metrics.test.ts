import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { startMerchant, type Merchant } from '../support/merchant.ts';

describe('GET /metrics (Prometheus)', () => {
  let t: TestRescue;
  let merchant: Merchant;
  beforeAll(async () => {
    t = await startTestRescue({ worker: false });
    merchant = await startMerchant(() => ({ charge: { status: 'failed', decline_code: 'issuer_said_banana' } }));
  });
  afterAll(async () => {
    await t.close();
    await merchant.close();
  });

  const metrics = async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const value = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1]);

  it('shows the rescue backlog and counts decline codes the taxonomy does not know', async () => {
    const before = await metrics();
    expect(before).toContain('# TYPE rescue_attempts_due gauge');
    const activeBefore = value(before, 'rescue_rescues_active');

    const api = t.client((await t.signup()).testKey);
    expect((await api.post('/v2/settings/gateway', { type: 'http', url: merchant.url, secret: merchant.secret })).status).toBe(200);
    const p = await api.post('/v2/payments', { amount: 1200, currency: 'USD', payment_method: 'pm_123', auto_rescue: { enabled: true } });
    expect(p.body).toMatchObject({ status: 'requires_rescue', failure_code: 'issuer_said_banana' });

    const after = await metrics();
    expect(value(after, 'rescue_rescues_active')).toBe(activeBefore + 1);
    expect(value(after, 'rescue_attempts_planned')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'rescue_unknown_decline_codes_total{code="issuer_said_banana"}')).toBe(1);
    // No tenant data: no account, payment or customer ids in the exposition.
    expect(after).not.toContain(p.body.id);
  });
});
