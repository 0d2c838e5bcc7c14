import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { RescueError } from '../errors.ts';

// Live mode refuses loopback and private addresses, so a live key cannot turn Rescue into a proxy
// into the network it runs in (SSRF). Test mode allows them: tests and backtests run the merchant
// on localhost. Webhook endpoints go through the same check (`what` and `code` name them).
export async function assertGatewayUrlAllowed(url: string, o: { what?: string; code?: 'gateway_url_not_allowed' | 'url_not_allowed' } = {}): Promise<void> {
  const what = o.what ?? 'gateway';
  const code = o.code ?? 'gateway_url_not_allowed';
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new RescueError(code, `Cannot resolve the ${what} host '${host}'.`, 'url');
  }
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw new RescueError(code, `Live mode cannot use a loopback or private address (${bad}) as its ${what}.`, 'url');
}

// Everything that is not a public unicast address. BlockList also matches IPv4-mapped IPv6
// (::ffff:127.0.0.1, which URL parsing turns into ::ffff:7f00:1) against the IPv4 rules.
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  // ::/96 covers :: and ::1 and the deprecated IPv4-compatible form (::7f00:1); 64:ff9b::/96 is NAT64.
  ['::', 96], ['64:ff9b::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return true;
  return NOT_PUBLIC.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}
