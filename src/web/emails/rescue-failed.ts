import { common, compose, linkPart, tr, type RenderInput, type RenderedEmail } from './layout.ts';

// The final notice: every planned retry failed (or the card cannot be charged again).

export function rescueFailed({ facts: f, link }: RenderInput): RenderedEmail {
  const t = tr(f);
  return compose(t('rescue_failed.subject', common(f)), f, [{ p: t('rescue_failed.body', common(f)) }, { p: t('rescue_failed.settle') }, ...linkPart(f, link)]);
}
