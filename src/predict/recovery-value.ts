// What a recovery is worth as the days go by: the learned schedule's price of time
// (auto_rescue.daily_churn_hazard; DEFAULT_DAILY_CHURN_HAZARD says where its default comes from).

// The shape of the hazard over the days, from the same Baremetrics figures (research/peers-2026.md):
// recovery per email 13.3% on day 0, 11.5% on day 7, 4.2% on day 15 — slow in the first week
// (ln(13.3/11.5)/7 = 0.021 a day), fast after it (ln(11.5/4.2)/8 = 0.126 a day). As multiples of the
// 15-day average (ln(13.3/4.2)/15 = 0.077), so an account's one number scales the whole curve.
const FIRST_WEEK_DAYS = 7;
const FIRST_WEEK_FACTOR = Math.log(13.3 / 11.5) / 7 / (Math.log(13.3 / 4.2) / 15);
const LATER_FACTOR = Math.log(11.5 / 4.2) / 8 / (Math.log(13.3 / 4.2) / 15);

/**
 * What a recovery `days` after the first decline is worth, per unit of the amount, at an average
 * daily hazard h: e^(−∫hazard). With the default h = 0.077 a day-7 recovery keeps 86% of its value,
 * a day-10 one 59%, a day-15 one 32% — waiting for a payday or a cleared hold inside the first week
 * costs little, a retry planned late in a long window must earn its place.
 */
export function recoveryValue(days: number, hazard: number): number {
  const early = Math.min(days, FIRST_WEEK_DAYS);
  const late = Math.max(0, days - FIRST_WEEK_DAYS);
  return Math.exp(-hazard * (FIRST_WEEK_FACTOR * early + LATER_FACTOR * late));
}
