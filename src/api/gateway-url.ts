import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { RescueError } from '../errors.ts';

// Live mode refuses loopback and private addresses, so a live key cannot turn Rescue into a proxy
// into the network it runs in (SSRF). Test mode allows them: tests and backtests run the merchant
// on localhost.
export async function assertGatewayUrlAllowed(url: string): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new RescueError('gateway_url_not_allowed', `Cannot resolve the gateway host '${host}'.`, 'url');
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw new RescueError('gateway_url_not_allowed', `Live mode cannot use a loopback or private address (${bad}) as its gateway.`, 'url');
}

export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 6) {
    const v = ip.toLowerCase();
    if (v === '::1' || v === '::') return true;
    if (v.startsWith('::ffff:')) return isPrivateAddress(v.slice(7));
    return /^(fc|fd|fe8|fe9|fea|feb)/.test(v);
  }
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}
