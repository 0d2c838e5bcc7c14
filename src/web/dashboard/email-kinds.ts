import type { Email, EmailKind } from './types.ts';

// The dunning sequence in the merchant's words (docs/dunning.md, "The sequence"); the API's codes
// stay in the filter's values and the URL.

export const EMAIL_KINDS: readonly EmailKind[] = ['payment_failed', 'retry_reminder', 'rescue_failed', 'payment_recovered', 'card_expiring'];

const LABELS: Record<EmailKind, string> = {
  payment_failed: 'Payment failed',
  retry_reminder: 'Reminder before the last retry',
  rescue_failed: 'Final notice: rescue failed',
  payment_recovered: 'Receipt: payment recovered',
  card_expiring: 'Before the card expires (pre-dunning)',
};

export const EMAIL_STATUSES: readonly Email['status'][] = ['queued', 'sent', 'failed'];

/** A kind in plain words; a kind this dashboard does not know yet reads as its code. */
export function kindLabel(kind: string): string {
  return (LABELS as Record<string, string>)[kind] ?? kind.replace(/_/g, ' ');
}

export function transportLabel(e: Pick<Email, 'transport' | 'status'>): string {
  if (e.transport === 'outbox') return 'Outbox only (no SMTP configured): nothing left the machine';
  if (e.transport === 'smtp') return 'SMTP';
  return e.status === 'queued' ? 'Not sent yet' : '—';
}
