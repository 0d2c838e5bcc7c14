import type { ChargeOptions, ChargeRequest, ChargeResult, NotSent } from './gateway.ts';

/**
 * Sends requests `width` at a time. When `stopping` aborts, nothing more is sent: the requests not
 * yet taken are answered `not_sent` and reported through `notSent` at once (their attempts are handed
 * back without waiting for the calls in flight, which run on).
 */
export async function chargeInLanes(requests: readonly ChargeRequest[], width: number, chargeOne: (r: ChargeRequest) => Promise<ChargeResult>, co: ChargeOptions = {}): Promise<(ChargeResult | NotSent)[]> {
  const results: (ChargeResult | NotSent)[] = new Array(requests.length);
  let next = 0;
  const stop = () => {
    const skipped = requests.slice(next);
    for (let i = next; i < requests.length; i++) results[i] = { status: 'not_sent' };
    next = requests.length;
    if (skipped.length) co.notSent?.(skipped);
  };
  if (co.stopping?.aborted) stop();
  co.stopping?.addEventListener('abort', stop, { once: true });
  const lane = async () => {
    while (next < requests.length) {
      const i = next++;
      results[i] = await chargeOne(requests[i]!);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(width, requests.length) }, lane));
  } finally {
    co.stopping?.removeEventListener('abort', stop);
  }
  return results;
}
