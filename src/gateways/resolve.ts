import type { Clock } from '../clock.ts';
import { RescueError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { getSettings } from '../store/settings.ts';
import type { Gateway } from './gateway.ts';
import { httpGateway } from './http-gateway.ts';
import { sandboxGateway } from './sandbox-gateway.ts';

/** The gateway an account charges through in a mode, from its settings. */
export function gatewayResolver(db: Db, o: { httpTimeoutMs: number; wallClock: Clock }) {
  const sandbox = sandboxGateway(db);
  return async (accountId: string, livemode: boolean): Promise<Gateway> => {
    const { gateway } = await getSettings(db, accountId, livemode);
    if (gateway.type === 'none') {
      throw new RescueError('gateway_not_configured', 'Live mode has no gateway yet: set one with POST /v2/settings/gateway before creating live payments.');
    }
    if (gateway.type === 'http') return httpGateway({ url: gateway.url, secret: gateway.secret, timeoutMs: o.httpTimeoutMs, wallClock: o.wallClock });
    return sandbox;
  };
}
