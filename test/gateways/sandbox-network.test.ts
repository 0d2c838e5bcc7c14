import { describe, expect, it } from 'vitest';
import {
  retrySuccessProbability,
  sandboxAccountUpdater,
  sandboxCardDetails,
  sandboxCharge,
  type SandboxChargeInput,
} from '../../src/gateways/sandbox/network.ts';
import {
  generatePopulation,
  isPayday,
  latestPaydayBetween,
  localDayOf,
  parseSimToken,
  simulatedProfile,
  weekdayOf,
  type DeclineBucket,
  type SimulatedProfile,
} from '../../src/gateways/sandbox/population.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FAIL = Date.UTC(2026, 2, 10, 15); // 2026-03-10 15:00Z, 10:00 in New York (standard time)

const population = generatePopulation(4000, 'net');
const profiles = population.map((token) => ({ token, profile: simulatedProfile(parseSimToken(token)?.seed ?? '') }));

function firstWith(pred: (p: SimulatedProfile) => boolean): { token: string; profile: SimulatedProfile } {
  const found = profiles.find(({ profile }) => pred(profile));
  if (found === undefined) throw new Error('no such profile in the test population');
  return found;
}

function bucket(b: DeclineBucket, recoverable = true) {
  return firstWith((p) => p.firstDecline.bucket === b && (!recoverable || !p.unrecoverable));
}

function retry(token: string, atMs: number, key: string, extra: Partial<SandboxChargeInput> = {}) {
  return sandboxCharge({ token, amount: 2000, currency: 'usd', at: new Date(atMs), attemptKey: key, firstFailureAt: new Date(FAIL), ...extra });
}

/**
 * Share of approvals at one instant over many renewals of the same customer: the per-attempt
 * probability, empirically. A retry's draw is keyed by (customer, renewal, hour, retry number) — not by the attempt
 * key, so that benchmark policies share their luck — so the renewals are made distinct by moving the
 * first failure back i milliseconds (which changes no time-since-failure threshold).
 */
function approvalRate(token: string, atMs: number, n = 2000, extra: Partial<SandboxChargeInput> = {}): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (retry(token, atMs, `k${i}`, { firstFailureAt: new Date(FAIL - i), ...extra }).status === 'succeeded') ok++;
  return ok / n;
}

describe('pm_sim tokens', () => {
  it('are deterministic: same input, same outcome and profile', () => {
    for (const { token } of profiles.slice(0, 200)) {
      const input: SandboxChargeInput = { token, amount: 1999, currency: 'usd', at: new Date(FAIL + 3 * DAY), attemptKey: 'a', firstFailureAt: new Date(FAIL) };
      expect(sandboxCharge(input)).toEqual(sandboxCharge({ ...input, at: new Date(input.at.getTime()) }));
    }
    expect(simulatedProfile(42)).toEqual(simulatedProfile('42'));
    expect(generatePopulation(5, 7)).toEqual(['pm_sim_7-0', 'pm_sim_7-1', 'pm_sim_7-2', 'pm_sim_7-3', 'pm_sim_7-4']);
    expect(generatePopulation(3, 'a b')).toEqual(generatePopulation(3, 'a b'));
    expect(generatePopulation(1, 'a b')[0]).toMatch(/^pm_sim_[a-z0-9]+-0$/);
  });

  it('first attempts fail with the profile code and nothing else', () => {
    for (const { token, profile } of profiles.slice(0, 500)) {
      const out = sandboxCharge({ token, amount: 2000, currency: 'usd', at: new Date(FAIL), attemptKey: 'renewal' });
      if (out.status === 'failed' && out.declineCode !== 'issuer_unavailable') expect(out.declineCode).toBe(profile.firstDecline.code);
    }
  });

  it('hard declines and latent unrecoverables never approve', () => {
    const hard = firstWith((p) => ['fraud', 'invalid_card', 'invalid_transaction'].includes(p.firstDecline.bucket));
    const latent = firstWith((p) => p.firstDecline.bucket === 'generic' && p.unrecoverable);
    for (const { token } of [hard, latent]) expect(approvalRate(token, FAIL + 5 * DAY, 300)).toBe(0);
    const out = retry(hard.token, FAIL + DAY, 'x');
    expect(out).toMatchObject({ status: 'failed', declineCode: hard.profile.firstDecline.code });
  });

  it('technical errors clear with p = 0.7 from 4 h after the failure', () => {
    const { token } = bucket('technical');
    expect(approvalRate(token, FAIL + HOUR)).toBeLessThan(0.4);
    expect(approvalRate(token, FAIL + 4 * HOUR)).toBeCloseTo(0.7, 1);
  });

  it('a temporary hold approves rarely before it clears and at 0.6 after', () => {
    const { token, profile } = firstWith((p) => p.firstDecline.bucket === 'hold' && p.holdClearDays > 2);
    const clearMs = FAIL + profile.holdClearDays * DAY;
    expect(approvalRate(token, clearMs - HOUR)).toBeLessThan(0.06);
    expect(approvalRate(token, clearMs + HOUR)).toBeCloseTo(0.6, 1);
  });

  it('generic declines decay ×0.7 per retry', () => {
    const { profile } = bucket('generic');
    const ctx = { atMs: FAIL + DAY, firstMs: FAIL, tz: 0, amount: 2000 };
    const p1 = retrySuccessProbability(profile, false, { ...ctx, retryNumber: 1 });
    const p3 = retrySuccessProbability(profile, false, { ...ctx, retryNumber: 3 });
    expect(p3 / p1).toBeCloseTo(0.49, 5);
  });

  it('insufficient funds clear on payday and fade afterwards', () => {
    const { token, profile } = firstWith((p) => p.firstDecline.bucket === 'nsf' && !p.unrecoverable && p.paySchedule.kind === 'weekly');
    const tz = profile.timezoneOffsetMinutes;
    const failDay = localDayOf(FAIL, tz);
    let payday = failDay + 1;
    while (!isPayday(profile.paySchedule, payday)) payday++;
    const localNoon = (day: number) => day * DAY + 12 * HOUR - tz * 60_000;
    if (payday > failDay + 1) expect(approvalRate(token, localNoon(payday - 1))).toBeLessThan(0.1);
    expect(approvalRate(token, localNoon(payday))).toBeCloseTo(0.65, 1);
    const ctx = { firstMs: FAIL, tz, amount: 2000, retryNumber: undefined };
    expect(retrySuccessProbability(profile, false, { ...ctx, atMs: localNoon(payday + 4) })).toBeCloseTo(0.65 * 0.85 ** 2, 6);
  });

  it('scales approval by 0.88 between 01:00 and 04:00 local', () => {
    const { token } = bucket('technical');
    const day = localDayOf(FAIL, 0) + 2;
    const at = (hour: number) => day * DAY + hour * HOUR;
    const noon = approvalRate(token, at(12), 4000, { timezoneOffsetMinutes: 0 });
    const night = approvalRate(token, at(2), 4000, { timezoneOffsetMinutes: 0 });
    expect(night / noon).toBeGreaterThan(0.8);
    expect(night / noon).toBeLessThan(0.95);
  });

  it('Mastercard insufficient funds carry a payday-based advice code', () => {
    const { token } = firstWith((p) => p.firstDecline.bucket === 'nsf' && p.unrecoverable && p.brand === 'mastercard');
    const out = retry(token, FAIL + DAY, 'x');
    expect(out.status === 'failed' && out.adviceCode).toMatch(/^(2[5-9]|30)$/);
  });
});

describe('common random numbers for retries', () => {
  it('a retry\'s luck depends on the customer, the renewal, the hour and the retry number, not on the attempt key', () => {
    const tokens = profiles.filter(({ profile }) => profile.firstDecline.bucket === 'generic' && !profile.unrecoverable).slice(0, 200).map((p) => p.token);
    expect(tokens.length).toBeGreaterThan(50);
    const at = FAIL + 3 * DAY + 10 * HOUR;
    let differsAcrossHours = 0;
    let differsAcrossRenewals = 0;
    let differsAcrossRetryNumbers = 0;
    for (const token of tokens) {
      const a = retry(token, at, 'policy-a', { retryNumber: 1 });
      // Another policy, another attempt id, same hour: the same answer.
      expect(retry(token, at + 30 * 60_000, 'policy-b', { retryNumber: 1 })).toEqual(a);
      if (retry(token, at + 2 * HOUR, 'policy-a', { retryNumber: 1 }).status !== a.status) differsAcrossHours++;
      if (retry(token, at, 'policy-a', { retryNumber: 1, firstFailureAt: new Date(FAIL - DAY) }).status !== a.status) differsAcrossRenewals++;
      // A schedule's next retry 10 minutes later is a fresh draw (at p₂ = 0.45 × 0.7).
      if (retry(token, at + 10 * 60_000, 'policy-a', { retryNumber: 2 }).status !== a.status) differsAcrossRetryNumbers++;
    }
    // p = 0.45: two independent draws disagree about half the time.
    expect(differsAcrossHours).toBeGreaterThan(40);
    expect(differsAcrossRenewals).toBeGreaterThan(40);
    expect(differsAcrossRetryNumbers).toBeGreaterThan(40);
  });
});

describe('expired cards and the account updater', () => {
  const expired = profiles.filter(({ profile }) => profile.firstDecline.bucket === 'expired');

  it('finds a new card for about 75% of expired cards, deterministically', () => {
    const at = new Date('2026-06-01T00:00:00Z');
    const updated = expired.filter(({ token }) => sandboxAccountUpdater(token, at).updated);
    expect(updated.length / expired.length).toBeGreaterThan(0.6);
    expect(updated.length / expired.length).toBeLessThan(0.9);
    for (const { token } of expired) expect(sandboxAccountUpdater(token, at)).toEqual(sandboxAccountUpdater(token, at));
    expect(sandboxAccountUpdater(bucket('generic').token, at)).toEqual({ updated: false });
  });

  it('the old card never approves; the replacement approves at 0.85', () => {
    const { token } = firstWith((p) => p.firstDecline.bucket === 'expired' && p.updaterFindsCard);
    const result = sandboxAccountUpdater(token, new Date('2026-06-01T00:00:00Z'));
    expect(result.newToken).toBe(`${token}_u1`);
    expect(approvalRate(token, FAIL + 3 * DAY, 300)).toBe(0);
    expect(approvalRate(`${token}_u1`, FAIL + 3 * DAY)).toBeCloseTo(0.85, 1);
    expect(sandboxAccountUpdater(`${token}_u1`, new Date('2026-06-01T00:00:00Z'))).toEqual({ updated: false });
    const before = sandboxCardDetails(token);
    const after = sandboxCardDetails(`${token}_u1`);
    expect(after.fingerprint).toBe(before.fingerprint);
    expect(after.expYear).toBeGreaterThan(before.expYear);
  });
});

describe('calendar helpers', () => {
  it('weekdays and paydays follow the calendar', () => {
    expect(weekdayOf(localDayOf(Date.UTC(2026, 2, 13, 12), 0))).toBe(5); // Friday 13 March 2026
    const day = (y: number, m: number, d: number) => localDayOf(Date.UTC(y, m - 1, d, 12), 0);
    // 15 Aug 2026 is a Saturday: the semimonthly payday moves to Friday the 14th.
    expect(isPayday({ kind: 'semimonthly' }, day(2026, 8, 14))).toBe(true);
    expect(isPayday({ kind: 'semimonthly' }, day(2026, 8, 15))).toBe(false);
    expect(isPayday({ kind: 'semimonthly' }, day(2026, 9, 1))).toBe(true);
    // Last business day of May 2026 is Friday the 29th.
    expect(isPayday({ kind: 'monthly' }, day(2026, 5, 29))).toBe(true);
    expect(isPayday({ kind: 'monthly' }, day(2026, 5, 28))).toBe(false);
    const paydays = [0, 1].map((parity) => latestPaydayBetween({ kind: 'biweekly', parity: parity as 0 | 1 }, day(2026, 3, 1), day(2026, 3, 14)));
    expect(paydays.map((d) => (d === null ? null : weekdayOf(d)))).toEqual([5, 5]);
    expect(paydays[0]).not.toBe(paydays[1]);
  });
});

describe('declined populations (pm_sim_<seed>_declined)', () => {
  it('a declined token fails its first attempt with the customer\'s own decline, and retries follow the usual model', () => {
    const at = new Date('2026-03-25T15:00:00Z');
    const tokens = generatePopulation(500, 'decl', { declined: true });
    expect(tokens.every((t) => t.endsWith('_declined'))).toBe(true);
    for (const token of tokens) {
      const first = sandboxCharge({ token, amount: 1000, currency: 'USD', at, attemptKey: `k-${token}` });
      expect(first.status, token).toBe('failed');
      const plain = token.replace(/_declined$/, '');
      if (first.status === 'failed') expect(first.declineCode).toBe(simulatedProfile(parseSimToken(plain)!.seed).firstDecline.code);
    }
    // Later attempts are the same customer as without the flag: same answers for the same keys.
    const later = new Date(at.getTime() + 3 * 86_400_000);
    for (const token of tokens.slice(0, 100)) {
      const input = { amount: 1000, currency: 'USD', at: later, attemptKey: 'retry-1', firstFailureAt: at, retryNumber: 1 };
      expect(sandboxCharge({ ...input, token })).toEqual(sandboxCharge({ ...input, token: token.replace(/_declined$/, '') }));
    }
  });
});

describe('the failing path (pm_sim_<seed>_declined_failing)', () => {
  it('every retry declines, with the code and advice code a failed retry of the same customer gets; the first attempt and the card are unchanged', () => {
    const at = new Date('2026-03-25T15:00:00Z');
    const tokens = generatePopulation(300, 'fail', { declined: true });
    let approvedWithoutFlag = 0;
    for (const token of tokens) {
      const failing = `${token}_failing`;
      expect(parseSimToken(failing)).toMatchObject({ declined: true, failing: true });
      expect(sandboxCharge({ token: failing, amount: 1000, currency: 'USD', at, attemptKey: 'k' })).toEqual(sandboxCharge({ token, amount: 1000, currency: 'USD', at, attemptKey: 'k' }));
      expect(sandboxCardDetails(failing)).toEqual(sandboxCardDetails(token));
      for (let k = 1; k <= 4; k++) {
        const input = { amount: 1000, currency: 'USD', at: new Date(at.getTime() + k * 2 * DAY), attemptKey: `retry-${k}`, firstFailureAt: at, retryNumber: k };
        const real = sandboxCharge({ ...input, token });
        const onPath = sandboxCharge({ ...input, token: failing });
        expect(onPath.status, failing).toBe('failed');
        if (real.status === 'failed') expect(onPath).toEqual(real);
        else approvedWithoutFlag++;
      }
    }
    // The population does recover without the flag: the flag is what declines those retries.
    expect(approvedWithoutFlag).toBeGreaterThan(50);
  });

  it('the account updater keeps the flag on the replacement card', () => {
    const { token } = firstWith((p) => p.firstDecline.bucket === 'expired' && p.updaterFindsCard);
    const replaced = sandboxAccountUpdater(`${token}_declined_failing`, new Date('2031-01-01T00:00:00Z'));
    expect(replaced.newToken).toMatch(/_u1_declined_failing$/);
  });
});
