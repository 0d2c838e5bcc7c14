import type { Clock } from '../clock.ts';
import { DEFAULT_GATEWAY } from '../domain/gateway-routing.ts';
import type { EgressGuard } from '../egress/egress-guard.ts';
import { RescueError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { getSettings, type AccountSettings, type GatewaySettings } from '../store/settings.ts';
import type { Gateway } from './gateway.ts';
import { httpGateway } from './http-gateway.ts';
import { sandboxGateway } from './sandbox-gateway.ts';
import { stripeGateway, type StripeGatewayOptions } from './stripe-gateway.ts';

/**
 * The gateway an account charges through in a mode, from its settings: the default one, or the
 * named one an attempt was routed to (gateway-routing.ts).
 */
export function gatewayResolver(db: Db, o: { httpTimeoutMs: number; wallClock: Clock; egress: EgressGuard; stripe?: Omit<StripeGatewayOptions, 'db'> }) {
  const sandbox = sandboxGateway(db);
  const stripe = o.stripe ? stripeGateway({ db, ...o.stripe }) : null;
  const build = (gateway: GatewaySettings): Gateway => {
    if (gateway.type === 'none') {
      throw new RescueError('gateway_not_configured', 'Live mode has no gateway yet: set one with POST /v2/settings/gateway before creating live payments.');
    }
    if (gateway.type === 'stripe') {
      if (!stripe) throw new RescueError('gateway_not_configured', 'Stripe is not configured on this Rescue (RESCUE_ENCRYPTION_KEY).');
      return stripe;
    }
    if (gateway.type === 'http') return httpGateway({ url: gateway.url, secret: gateway.secret, timeoutMs: o.httpTimeoutMs, wallClock: o.wallClock, egress: o.egress });
    return sandbox;
  };
  // `preloaded`: the account's settings in this mode, when the caller has read them already (a request or batch reads them once).
  return async (accountId: string, livemode: boolean, name?: string | null, preloaded?: AccountSettings): Promise<Gateway> => {
    const settings = preloaded ?? (await getSettings(db, accountId, livemode));
    if (!name || name === DEFAULT_GATEWAY) return build(settings.gateway);
    const named = settings.gateways.find((g) => g.name === name);
    if (!named) throw new RescueError('gateway_not_configured', `No gateway named '${name}' is configured; add it with POST /v2/settings/gateways.`);
    return build(named.gateway);
  };
}
