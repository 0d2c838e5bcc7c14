// One line a merchant can read for each planned retry: what the decline needs and why this moment.

import type { PlanInput } from '../domain/schedule-policy.ts';
import { declineGroup, localClock, type DeclineGroup } from './features.ts';
import type { LearnedContext } from './learned-policy.ts';
import { describeFamily, latestPaydayIn, PAYDAY_LAG_DAYS } from './payday.ts';
import { calendarsInWindow, daysSinceMixPayday, describeMixCalendar, mixApplies, type PaydayMix } from './payday-mix.ts';

const HOUR = 3_600_000;

export const pct = (p: number) => `${Math.round(p * 100)}%`;

/** Whether the account's own evidence (its model's held-out test, or the benchmark's exact oracle) times this decline group. */
export function ownsGroup(ctx: Pick<LearnedContext, 'freeGroups'>, group: DeclineGroup): boolean {
  return ctx.freeGroups === 'all' || (ctx.freeGroups?.has(group) ?? false);
}

export function whenOf(input: PlanInput, atMs: number): string {
  const hours = (atMs - input.rescueStartedAt.getTime()) / HOUR;
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min after the decline`;
  if (hours < 48) return `${Math.round(hours)} h after the decline`;
  return `day ${Math.round(hours / 24)} after the decline`;
}

/** Insufficient funds timed by the account's calendars (or the usual ones): which of them this day follows a payday of, and how many customers they pay. */
function mixReason(mix: PaydayMix, startDay: number, day: number): string {
  const whose = mix.cards > 0 ? "this account's customers" : 'customers';
  const source = mix.cards > 0 ? `learned from ${mix.cards} of this account's cards` : `by ${mix.usual ?? 'the usual paydays'}; this account's own not learned yet`;
  const fresh = calendarsInWindow(mix, startDay, day);
  const share = fresh.reduce((s, c) => s + c.share, 0);
  if (fresh.length > 0) {
    const since = Math.min(...fresh.map((c) => daysSinceMixPayday(c.calendar, startDay, day) ?? 0));
    const when = since === 0 ? 'on' : `${since} day${since === 1 ? '' : 's'} after`;
    return `insufficient funds; ${when} a likely payday (${fresh.map((c) => describeMixCalendar(c.calendar)).join(', ')}: ${pct(share)} of ${whose} are paid then; ${source})`;
  }
  const top = mix.calendars.slice(0, 3).map((c) => `${describeMixCalendar(c.calendar)} ${pct(c.share)}`).join(', ');
  return `insufficient funds; between likely paydays (${top}; ${source}), the best remaining time`;
}

/** One line a merchant can read: what the decline needs, and why this moment — true of the instant it names. */
export function reasonFor(input: PlanInput, ctx: LearnedContext, atMs: number, p: number, tz: string): string {
  const startDay = localClock(input.rescueStartedAt.getTime(), tz).day;
  const at = localClock(atMs, tz);
  let why: string;
  const group = declineGroup(input.decline.code, input.decline.strategy);
  switch (group) {
    case 'nsf': {
      if (mixApplies(ctx.paydayMix, ctx.payday, group)) {
        why = mixReason(ctx.paydayMix, startDay, at.day);
        break;
      }
      const payday = latestPaydayIn(ctx.payday.family, startDay, at.day);
      const calendar = ctx.payday.family === 'generic' ? describeFamily('generic') : `${describeFamily(ctx.payday.family)}, this customer's calendar`;
      why = payday !== null && at.day - payday <= PAYDAY_LAG_DAYS
        ? `insufficient funds; ${at.day === payday ? 'on' : `${at.day - payday} day${at.day - payday === 1 ? '' : 's'} after`} a likely payday (${calendar})`
        : `insufficient funds; between likely paydays (${calendar}), the model's best remaining time`;
      break;
    }
    case 'hold':
      why = 'the issuer asked to try later; temporary holds clear with time';
      break;
    case 'velocity':
      why = at.day > startDay ? 'a card limit was reached; after its reset at local midnight' : 'a card limit was reached; later the same day';
      break;
    case 'technical':
      why = input.decline.strategy === 'in_24h'
        ? 'a processing error; a day or more after the last try, as such errors usually clear'
        : atMs - input.failedAt.getTime() >= 4 * HOUR ? 'a technical error; 4 h or more after the last try, once such faults have usually cleared' : 'a technical error; soon, as outages often clear within minutes to hours';
      break;
    case 'expired':
      why = ctx.card?.cardWasUpdated ? 'the card was replaced; retried with its new details' : 'the card needs new details; waits for a new card';
      break;
    default:
      why = `${input.decline.code.replaceAll('_', ' ')}; each retry's chance falls, and a recovery is worth less the longer it waits`;
  }
  // Only the groups the account's model has earned are timed by it (predict/scorers.ts).
  const by = ctx.modelLabel && ownsGroup(ctx, group) && !mixApplies(ctx.paydayMix, ctx.payday, group) ? ` (${ctx.modelLabel})` : '';
  return `${why}; ${whenOf(input, atMs)}, ${pct(p)} predicted${by}`;
}
