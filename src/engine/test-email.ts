import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { RescueError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { emailTransport } from './dunning-send.ts';
import type { EmailKind } from '../domain/dunning.ts';
import { previewEmailWith, type EmailPreview, type UnsavedDunning } from './email-preview.ts';

// A test send of a previewed email, to the account's own address only (never to a typed one: the
// endpoint must not become a way to mail strangers). It goes straight through the operator's SMTP
// server, as the outbox's emails do, and never into the outbox.

/** The preview of `kind` (saved settings, unsaved values on top), sent as a test. */
export async function sendTestEmailOf(db: Db, config: Config, scope: { accountId: string; livemode: boolean }, unsaved: UnsavedDunning, o: { kind: EmailKind; locale: string | null; publicUrl: string; now: Date }) {
  const preview = await previewEmailWith(db, scope, unsaved, o);
  return { preview, ...(await sendTestEmail(db, config, scope.accountId, preview)) };
}

async function sendTestEmail(db: Db, config: Config, accountId: string, preview: EmailPreview): Promise<{ to: string; messageId: string }> {
  if (!config.RESCUE_SMTP_URL) {
    throw new RescueError('smtp_not_configured', 'This Rescue has no SMTP server (RESCUE_SMTP_URL), so emails stay in the outbox and a test email cannot be sent.');
  }
  const account = await db.selectFrom('accounts').select('email').where('id', '=', accountId).executeTakeFirstOrThrow();
  const transport = emailTransport(config.RESCUE_SMTP_URL, config.RESCUE_SMTP_TIMEOUT_MS);
  if (transport.kind !== 'smtp') throw new Error('unreachable: an SMTP URL gives an SMTP transport');
  const messageId = `<test-${randomBytes(12).toString('hex')}@${config.RESCUE_EMAIL_FROM.split('@')[1] ?? 'rescue'}>`;
  try {
    await transport.send({
      from: { name: preview.from_name, address: config.RESCUE_EMAIL_FROM },
      to: account.email,
      replyTo: preview.reply_to,
      subject: `[Test] ${preview.subject}`,
      text: preview.text,
      html: preview.html,
      messageId,
      headers: { 'X-Rescue-Test-Email': preview.kind },
    });
  } catch (err) {
    throw new RescueError('smtp_error', `The SMTP server did not take the test email: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    transport.close();
  }
  return { to: account.email, messageId };
}
