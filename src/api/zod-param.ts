// Stripe names nested parameters with brackets: auto_rescue[max_retries], custom_schedule_days[2].
export function zodParam(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  if (head === undefined) return '';
  return head + rest.map((p) => `[${p}]`).join('');
}
