import { common, compose, date, linkPart, tr, type RenderInput, type RenderedEmail } from './layout.ts';

// Before the last planned retry: one more chance to update the card before the rescue ends.

export function retryReminder({ facts: f, link }: RenderInput): RenderedEmail {
  const t = tr(f);
  return compose(t('retry_reminder.subject', common(f)), f, [
    { p: t('retry_reminder.body', common(f)) },
    { p: f.next_retry_at ? t('retry_reminder.final_at', { date: date(f, f.next_retry_at) }) : t('retry_reminder.final_soon') },
    ...linkPart(f, link),
  ]);
}
