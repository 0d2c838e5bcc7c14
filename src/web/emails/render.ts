import type { EmailKind } from '../../domain/dunning.ts';
import { cardExpiring } from './card-expiring.ts';
import type { RenderInput, RenderedEmail } from './layout.ts';
import { paymentFailed } from './payment-failed.ts';
import { paymentRecovered } from './payment-recovered.ts';
import { rescueFailed } from './rescue-failed.ts';
import { retryReminder } from './retry-reminder.ts';

export type { EmailLink, RenderInput, RenderedEmail } from './layout.ts';

const TEMPLATES: Record<EmailKind, (input: RenderInput) => RenderedEmail> = {
  payment_failed: paymentFailed,
  retry_reminder: retryReminder,
  rescue_failed: rescueFailed,
  payment_recovered: paymentRecovered,
  card_expiring: cardExpiring,
};

/** Subject, plain text and HTML of one dunning email. */
export function renderEmail(kind: EmailKind, input: RenderInput): RenderedEmail {
  return TEMPLATES[kind](input);
}
