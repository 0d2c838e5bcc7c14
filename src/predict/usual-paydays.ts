// The usual pay calendars of a card's country: what times insufficient funds for a customer without a
// calendar of their own (payday.ts needs four recoveries) until the account's own mixture has shown
// better on its held-out retries (learn-payday-mix.ts), and the prior that mixture is fitted from.
//
// Each mixture puts 70% of the customers on calendars and 30% on none of them, recovering at a low
// rate whatever the day (research/retry-facts.md §S.3: 30% of insufficient-funds cases never
// recover). Where a source gives pay-frequency shares they are used; where it only names the custom,
// the shares are an assumption [A]. Countries without a mixture of their own get the one for
// "outside the US", a hedge across the monthly customs of Europe and Asia; a card with no country
// gets the US one (most accounts, and the sandbox).

import { START_RESPONSE, type MixCalendar, type PaydayMix } from './payday-mix.ts';

const ON_CALENDARS = 0.7;

function usual(label: string, shares: readonly (readonly [MixCalendar, number])[]): PaydayMix {
  const total = shares.reduce((s, [, w]) => s + w, 0);
  return {
    calendars: shares.map(([calendar, w]) => ({ calendar, share: (ON_CALENDARS * w) / total })),
    other: { share: 1 - ON_CALENDARS, rate: 0.02 },
    response: START_RESPONSE,
    cards: 0,
    usual: label,
  };
}

/**
 * US pay frequencies (BLS CES 2019, research/retry-facts.md §3: weekly 33.8%, biweekly 42.2%,
 * semimonthly 18.6%, monthly 5.4%), weekly and biweekly paid on Fridays (the two biweekly parities
 * equally), monthly on the last business day.
 */
export const PRIOR_PAYDAY_MIX: PaydayMix = usual('US pay frequencies', [
  ['weekly-5', 0.338],
  ['biweekly0-5', 0.211],
  ['biweekly1-5', 0.211],
  ['semimonthly', 0.186],
  ['monthly', 0.054],
]);

/**
 * Canada pays like the US, more of it every two weeks: "two-thirds of full- and part-time employees
 * are paid every two weeks, while 20 per cent are paid weekly" (Ceridian, in HR Reporter, quoted at
 * https://hcmdialogue.ca/articles/which-pay-frequency-is-best-for-employee-retention); the rest
 * semimonthly or monthly, split evenly [A]; Fridays as in the US [A].
 */
const CANADA = usual('Canadian pay frequencies', [
  ['weekly-5', 0.2],
  ['biweekly0-5', 0.333],
  ['biweekly1-5', 0.333],
  ['semimonthly', 0.067],
  ['monthly', 0.067],
]);

/**
 * Australia and New Zealand pay fortnightly most often, weekly in trades and hospitality, monthly for
 * some salaried staff (https://www.rosterelf.com/glossary/pay-period,
 * https://atlashxm.com/resources/australia-and-new-zealand-payroll-processing), often on Thursdays
 * (https://kyouken.hatenadiary.com/entry/sekainokyuryou). Shares [A]: fortnightly 60%, weekly 20%,
 * monthly 20%.
 */
const AUSTRALASIA = usual('the usual paydays in Australia and New Zealand', [
  ['biweekly0-4', 0.3],
  ['biweekly1-4', 0.3],
  ['weekly-4', 0.2],
  ['monthly', 0.2],
]);

/**
 * Mexico: pay periods may not be longer than a week for manual work and fifteen days for the rest
 * (Ley Federal del Trabajo art. 88, https://dedinero.com.mx/servicios/cuando-se-paga-la-quincena-si-cae-fin-de-semana-la-ley-federal-del-trabajo-responde-rotundamente/):
 * the quincena, paid on the 15th and at the month's end, and weekly pay on Fridays. Shares [A]: the
 * 15th and the month's end 35% each, weekly 30%. A quincena customer is paid on both days, which the
 * mixture (one calendar per customer) cannot say: after a failed retry on the 16th it leans to month
 * end where such a customer was not paid on the 15th; an account's own mixture can learn it.
 */
const MEXICO = usual('the usual paydays in Mexico', [
  ['dom-15', 0.35],
  ['monthly', 0.35],
  ['weekly-5', 0.3],
]);

/**
 * Brazil: a monthly salary is paid by the fifth business day of the next month (CLT art. 459 §1,
 * https://artclt.com.br/2013/04/25/artigo-459), often with an advance around the 15th
 * (https://orgatec.com.br/en/2025/05/09/essential-rules-for-salary-payment-in-brazil). Shares [A]:
 * the 5th 45%, the month's end 25%, the 15th 30%. The 5th stands for the fifth business day, which
 * (Saturdays counting) falls on the 5th to the 8th: a payday's window (the day and two after) covers
 * the 5th to the 7th, and a 5th on a weekend is paid the Friday before where the law says the next
 * business day — a known approximation.
 */
const BRAZIL = usual('the usual paydays in Brazil', [
  ['dom-5', 0.45],
  ['monthly', 0.25],
  ['dom-15', 0.3],
]);

/**
 * Japan and Korea: most salaries land on the 25th (https://www.japannihon.com/do-japanese-get-paid-monthly/,
 * https://cm.asiae.co.kr/en/article/2024012411144234746). Shares [A]: the 25th 70%, the month's end 30%.
 */
const JAPAN_KOREA = usual('the usual paydays in Japan and Korea', [
  ['dom-25', 0.7],
  ['monthly', 0.3],
]);

/**
 * Elsewhere monthly pay is the norm, at month end or on the 25th, and weekly or fortnightly pay the
 * exception: England, France and Germany pay once a month, Denmark on the month's last day
 * (https://internationalhrforum.com/2011/01/13/international-payday-rules-from-a-to-z; Lano's pay
 * frequency guide, https://lano.io/blog/global-payroll-pay-frequency-and-13th-month-salary). No
 * source gives shares across countries [A]: the month's last business day 20%, the 25th 20%, the last
 * Friday 10% (a common UK payday for monthly staff), the 1st 5% and the 15th 5%, Fridays weekly 5%,
 * every other Thursday 5%.
 */
const OUTSIDE_US: PaydayMix = usual('the usual paydays outside the US', [
  ['monthly', 0.2],
  ['dom-25', 0.2],
  ['last-5', 0.1],
  ['dom-1', 0.05],
  ['dom-15', 0.05],
  ['weekly-5', 0.05],
  ['biweekly0-4', 0.025],
  ['biweekly1-4', 0.025],
]);

/** The countries with usual calendars of their own (ISO 3166 alpha-2). */
export const USUAL_PAYDAYS_BY_COUNTRY: Readonly<Record<string, PaydayMix>> = {
  US: PRIOR_PAYDAY_MIX,
  CA: CANADA,
  AU: AUSTRALASIA,
  NZ: AUSTRALASIA,
  MX: MEXICO,
  BR: BRAZIL,
  JP: JAPAN_KOREA,
  KR: JAPAN_KOREA,
};

/** The usual calendars for a card from `country` (ISO 3166 alpha-2): the US ones where it is unknown. */
export function usualPaydayMix(country: string | null | undefined): PaydayMix {
  if (!country) return PRIOR_PAYDAY_MIX;
  return USUAL_PAYDAYS_BY_COUNTRY[country.toUpperCase()] ?? OUTSIDE_US;
}
