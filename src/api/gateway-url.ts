import { EgressRefused, type EgressGuard } from '../egress/egress-guard.ts';
import { RescueError } from '../errors.ts';

// A merchant's URL (gateway, webhook endpoint) is checked when saved, with the same rules the egress
// guard applies again at every request (src/egress/): a refusal here is a clear 400 on `url` instead
// of failures later in the delivery log. Live mode also needs the name to resolve now; test mode may
// save a name that does not resolve yet (it is checked when Rescue connects).
export async function assertGatewayUrlAllowed(egress: EgressGuard, url: string, livemode: boolean, o: { what?: string; code?: 'gateway_url_not_allowed' | 'url_not_allowed' } = {}): Promise<void> {
  const what = o.what ?? 'gateway';
  const code = o.code ?? 'gateway_url_not_allowed';
  try {
    await egress.check(url, livemode, { requireResolvable: livemode });
  } catch (err) {
    if (err instanceof EgressRefused) throw new RescueError(code, `${livemode ? 'Live' : 'Test'} mode cannot use this ${what} URL. ${err.message}`, 'url');
    throw err;
  }
}
