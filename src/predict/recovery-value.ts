// What a recovery is worth as the days go by: the learned schedule's price of time
// (auto_rescue.daily_churn_hazard; DEFAULT_DAILY_CHURN_HAZARD says where its default comes from).

// The curve passes through Baremetrics' three points (research/peers-2026.md: recovery per dunning
// email 13.3% on day 0, 11.5% on day 7, 4.2% on day 15) and puts its knee at day 10, where Recurly
// finds 90% of recovered transactions have come in (research/retry-facts.md §2): slow for the first
// ten days (ln(13.3/11.5)/7 = 0.021 a day, the first week's rate), steep after them (from 81% on
// day 10 to 32% on day 15: 0.19 a day). Baremetrics alone does not say where between day 7 and day
// 15 the fall starts; a knee at day 7 was the first choice and, in the benchmark (docs/prediction.md,
// "Time has a price"), cost 1–2 points of revenue against the oracle: days 8–10 were priced as if the
// customer were already gone. The knee at day 10 keeps the same median days and 91–94% of recoveries
// inside 10 days (95% before). As multiples of the 15-day average
// (ln(13.3/4.2)/15 = 0.077), so an account's one number scales the whole curve.
const KNEE_DAYS = 10;
const AVERAGE = Math.log(13.3 / 4.2) / 15;
const EARLY_FACTOR = Math.log(13.3 / 11.5) / 7 / AVERAGE;
const LATE_FACTOR = (Math.log(13.3 / 4.2) - EARLY_FACTOR * AVERAGE * KNEE_DAYS) / (15 - KNEE_DAYS) / AVERAGE;

/**
 * What a recovery `days` after the first decline is worth, per unit of the amount, at an average
 * daily hazard h: e^(−∫hazard). With the default h = 0.077 a day-7 recovery keeps 86% of its value,
 * a day-10 one 81%, a day-15 one 32% — waiting for a payday or a cleared hold inside the first ten
 * days costs little, a retry planned late in a long window must earn its place.
 */
export function recoveryValue(days: number, hazard: number): number {
  const early = Math.min(days, KNEE_DAYS);
  const late = Math.max(0, days - KNEE_DAYS);
  return Math.exp(-hazard * (EARLY_FACTOR * early + LATE_FACTOR * late));
}
