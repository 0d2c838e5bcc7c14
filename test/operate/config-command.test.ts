import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../src/config.ts';
import { runCli } from './run-cli.ts';

// `rescue config` prints what a process would run with: every setting config.ts reads, where each
// came from, and no secret — only enough of it to tell which one is in use.

describe('rescue config', () => {
  it('lists every setting with its effective value and source, secrets masked', async () => {
    const secrets = {
      DATABASE_URL: 'postgres://rescue:db-pass-9f2a@db.internal:5432/rescue',
      RESCUE_SMTP_URL: 'smtps://mailer:smtp-pass-71bc@smtp.example.com:465',
      RESCUE_ENCRYPTION_KEY: `k2:${Buffer.alloc(32, 7).toString('base64')}`,
      RESCUE_ENCRYPTION_OLD_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
      RESCUE_STRIPE_SECRET_KEY: 'sk_live_51abcdefghijklmnopqrstuvwxyz',
      RESCUE_STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_connectsecret0123456789',
    };
    const run = await runCli(['config'], { ...secrets, PORT: '8080', HOST: '0.0.0.0' });
    expect(run.code).toBe(0);
    const rows = new Map(run.stdout.trimEnd().split('\n').map((l) => [l.split(/\s+/)[0]!, l.replace(/^\S+\s+/, '')]));
    expect([...rows.keys()]).toEqual(SETTING_NAMES);
    // Given, defaulted, derived from others, and unset.
    expect(rows.get('PORT')).toBe('8080');
    expect(rows.get('RESCUE_WORKER_POLL_MS')).toBe('1000  (default)');
    expect(rows.get('RESCUE_SIGNUP')).toBe('closed  (default)');
    expect(rows.get('RESCUE_PUBLIC_URL')).toBe('(unset)');
    // Secrets: which one, never what.
    expect(rows.get('DATABASE_URL')).toBe('postgres://rescue:****@db.internal:5432/rescue');
    expect(rows.get('RESCUE_SMTP_URL')).toBe('smtps://mailer:****@smtp.example.com:465');
    expect(rows.get('RESCUE_ENCRYPTION_KEY')).toBe('k2:****');
    expect(rows.get('RESCUE_ENCRYPTION_OLD_KEYS')).toBe('k1:****');
    expect(rows.get('RESCUE_STRIPE_SECRET_KEY')).toMatch(/^sk_live_\*\*\*\*$/);
    for (const secret of ['db-pass-9f2a', 'smtp-pass-71bc', Buffer.alloc(32, 7).toString('base64'), Buffer.alloc(32, 3).toString('base64'), 'abcdefghijklmnop', 'connectsecret']) {
      expect(run.stdout).not.toContain(secret);
    }
  });

  it('a bad value stops it with the variable named, as at start', async () => {
    const run = await runCli(['config'], { RESCUE_WORKER_BATCH: 'lots' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('RESCUE_WORKER_BATCH');
  });
});
