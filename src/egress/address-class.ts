import ipaddr from 'ipaddr.js';

// Which addresses an outbound request may reach. Three classes:
//   public    — global unicast: always allowed;
//   private   — loopback, RFC 1918, unique-local, site-local, CGNAT, local-use NAT64: only when the
//               operator allows private addresses for the mode (egress-policy.ts);
//   forbidden — link-local, cloud metadata, unspecified, multicast, broadcast, discard, documentation,
//               benchmarking and the other reserved ranges: never, whatever the settings.
// An IPv6 address that carries an IPv4 one (mapped, compatible, SIIT, NAT64, 6to4, Teredo) is judged
// by what it carries too, and the worse class wins: [2002:7f00:1::1] is 127.0.0.1 behind 6to4.

export type AddressClass = 'public' | 'private' | 'forbidden';

export interface AddressVerdict {
  class: AddressClass;
  /** What the address is, in words, for error messages and the delivery log (never the port). */
  kind: string;
}

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

// Cloud metadata services outside the link-local range (which is forbidden as a whole anyway):
// AWS's IPv6 IMDS, Alibaba Cloud's, Oracle Cloud's legacy one.
const METADATA = ['fd00:ec2::254', '100.100.100.200', '192.0.0.192'].map((a) => ipaddr.parse(a).toNormalizedString());

const PRIVATE_V4: Record<string, string> = { loopback: 'a loopback address', private: 'a private address', carrierGradeNat: 'a carrier-grade NAT address' };
const PUBLIC_V4 = new Set(['unicast']);
const PRIVATE_V6: Record<string, string> = { loopback: 'a loopback address', uniqueLocal: 'a unique-local address' };

const RANK: Record<AddressClass, number> = { public: 0, private: 1, forbidden: 2 };
const worse = (a: AddressVerdict, b: AddressVerdict) => (RANK[b.class] > RANK[a.class] ? b : a);

/** The class of one IP address (v4 or v6, as DNS or a URL gives it); anything unparsable is forbidden. */
export function classifyAddress(ip: string): AddressVerdict {
  const bare = ip.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return { class: 'forbidden', kind: 'not an IP address' };
  const parsed = ipaddr.parse(bare);
  if (METADATA.includes(parsed.toNormalizedString())) return { class: 'forbidden', kind: 'a cloud metadata address' };
  return parsed.kind() === 'ipv4' ? classifyV4(parsed as IPv4) : classifyV6(parsed as IPv6);
}

function classifyV4(ip: IPv4): AddressVerdict {
  if (METADATA.includes(ip.toNormalizedString())) return { class: 'forbidden', kind: 'a cloud metadata address' };
  const range = ip.range();
  if (PUBLIC_V4.has(range)) return { class: 'public', kind: 'a public address' };
  if (range in PRIVATE_V4) return { class: 'private', kind: PRIVATE_V4[range]! };
  if (range === 'linkLocal') return { class: 'forbidden', kind: 'a link-local address (cloud metadata lives here)' };
  return { class: 'forbidden', kind: `a reserved address (${range})` };
}

function classifyV6(ip: IPv6): AddressVerdict {
  const embedded = embeddedV4(ip);
  if (embedded.length) {
    // The carrier prefix itself is fine (NAT64, 6to4 relays are public); what it leads to decides.
    const carried = embedded.map((v4) => classifyV4(v4)).reduce(worse);
    return { class: carried.class, kind: `${carried.kind} inside an IPv6 address` };
  }
  const p = ip.parts;
  if (ip.match(ipaddr.parse('fec0::') as IPv6, 10)) return { class: 'private', kind: 'a site-local address' };
  if (ip.match(ipaddr.parse('64:ff9b:1::') as IPv6, 48)) return { class: 'private', kind: 'a local-use NAT64 address' };
  const range = ip.range();
  if (range === 'unicast') {
    // ipaddr.js calls 100::/64 (discard) and fec0::/10 unicast in some versions; and only 2000::/3 is
    // globally routed unicast today, so everything outside it is refused.
    if (p[0]! >= 0x2000 && p[0]! <= 0x3fff) return { class: 'public', kind: 'a public address' };
    return { class: 'forbidden', kind: 'an address outside global unicast (2000::/3)' };
  }
  if (range in PRIVATE_V6) return { class: 'private', kind: PRIVATE_V6[range]! };
  if (range === 'linkLocal') return { class: 'forbidden', kind: 'a link-local address' };
  return { class: 'forbidden', kind: `a reserved address (${range})` };
}

/**
 * The IPv4 addresses an IPv6 address leads to: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:AABB:CCDD::) and Teredo
 * (2001:0:SERVER:…:~CLIENT), whose client address is stored inverted.
 */
function embeddedV4(ip: IPv6): IPv4[] {
  const p = ip.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && p[5] === 0xffff) return [v4(p[6]!, p[7]!)];
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return [v4(p[6]!, p[7]!)];
  // ::/96 without :: and ::1 themselves, which are the unspecified and loopback addresses.
  if (zeros(0, 6) && (p[6] !== 0 || p[7]! > 1)) return [v4(p[6]!, p[7]!)];
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return [v4(p[6]!, p[7]!)];
  if (p[0] === 0x2002) return [v4(p[1]!, p[2]!)];
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[2]!, p[3]!), v4(~p[6]! & 0xffff, ~p[7]! & 0xffff)];
  return [];
}
