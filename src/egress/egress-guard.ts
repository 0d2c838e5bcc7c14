import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress, type AddressVerdict } from './address-class.ts';

// The one way Rescue sends a request to a URL a merchant chose (their http gateway, their webhook
// endpoints). The host name is resolved once, every address it resolves to is checked
// (address-class.ts), and the socket connects to those checked addresses: the name is never looked
// up a second time, so a DNS answer that changes between the check and the connection (rebinding)
// changes nothing. A refused address is refused before any connection is tried, with a message that
// names the address's kind and never the port, so the delivery log cannot tell closed ports from
// open ones. Answers are cut off past a size cap.

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to (dns.lookup by default; tests inject their own). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface EgressPolicy {
  /** Whether loopback and private addresses may be reached, per mode (link-local and metadata never). */
  allowPrivate: { test: boolean; live: boolean };
  resolve?: Resolver;
}

/** The request was not sent: the URL leads somewhere its mode may not go, or its host does not resolve. */
export class EgressRefused extends Error {
  readonly code = 'url_not_allowed';
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefused';
  }
}

/** The answer went past its size cap; the connection was dropped there. */
export class EgressAnswerTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`answer larger than ${limit} bytes`);
    this.name = 'EgressAnswerTooLarge';
    this.limit = limit;
  }
}

/** Every answer is read at most this far; callers bound what they keep more tightly. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface EgressRequest {
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
  livemode: boolean;
  timeoutMs: number;
  maxResponseBytes?: number;
}

export interface EgressGuard {
  /** Resolves and checks a URL without sending anything (when a merchant saves it). */
  check(url: string, livemode: boolean, o?: { requireResolvable?: boolean }): Promise<void>;
  /** Sends one request to the checked addresses; redirects are answers (never followed). */
  request(url: string, r: EgressRequest): Promise<Response>;
}

export function egressGuard(policy: EgressPolicy): EgressGuard {
  const resolve = policy.resolve ?? systemResolver;
  // One keep-alive agent per protocol and per rule set: a connection opened under the lenient rule
  // must never be reused by a request under the strict one.
  const agents = new Map<string, http.Agent>();
  const agentFor = (protocol: string, lenient: boolean) => {
    const key = `${protocol}${lenient}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 64 }) : new http.Agent({ keepAlive: true, maxSockets: 64 });
      agents.set(key, agent);
    }
    return agent;
  };

  const verdictAllows = (v: AddressVerdict, livemode: boolean) => v.class === 'public' || (v.class === 'private' && (livemode ? policy.allowPrivate.live : policy.allowPrivate.test));

  const refuse = (host: string, address: string, v: AddressVerdict, livemode: boolean) => {
    const why = v.class === 'forbidden' ? 'which is never reached' : `which ${livemode ? 'live' : 'test'} mode may not reach on this Rescue`;
    const shown = host === address ? address : `${host} (${address})`;
    return new EgressRefused(`Refused before connecting: ${shown} is ${v.kind}, ${why}.`);
  };

  /** The checked addresses of a host (a literal is its own address); throws EgressRefused. */
  async function checkedAddresses(host: string, livemode: boolean): Promise<ResolvedAddress[]> {
    const literal = isIP(host);
    let addresses: ResolvedAddress[];
    if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await resolve(host);
      } catch {
        throw new EgressRefused(`Cannot resolve the host ${host}.`);
      }
      if (addresses.length === 0) throw new EgressRefused(`Cannot resolve the host ${host}.`);
    }
    // Every address must pass: a name resolving to one public and one private address is refused,
    // or the connection could pick the private one.
    for (const a of addresses) {
      const v = classifyAddress(a.address);
      if (!verdictAllows(v, livemode)) throw refuse(host, a.address, v, livemode);
    }
    return addresses;
  }

  return {
    async check(url, livemode, o = {}) {
      const host = hostOf(new URL(url));
      try {
        await checkedAddresses(host, livemode);
      } catch (err) {
        // A name that does not resolve yet may be saved where the caller allows it; it is checked
        // again, for real, when Rescue connects.
        if (!o.requireResolvable && err instanceof EgressRefused && /^Cannot resolve/.test(err.message)) return;
        throw err;
      }
    },

    async request(url, r) {
      const target = new URL(url);
      if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new EgressRefused(`Only http and https URLs are reached, not ${target.protocol}`);
      const host = hostOf(target);
      const lenient = r.livemode ? policy.allowPrivate.live : policy.allowPrivate.test;
      // A literal address is checked here (node does not call `lookup` for one); a name is resolved
      // and checked by `lookup`, which hands the socket exactly the addresses it checked.
      if (isIP(host)) await checkedAddresses(host, r.livemode);
      const lookup: LookupFunction = (hostname, options, callback) => {
        checkedAddresses(hostname, r.livemode).then(
          (addresses) => {
            if (options.all) (callback as (e: null, a: ResolvedAddress[]) => void)(null, addresses);
            else callback(null, addresses[0]!.address, addresses[0]!.family);
          },
          (err: Error) => callback(err as NodeJS.ErrnoException, '', 0),
        );
      };
      return send(target, r, { lookup, agent: agentFor(target.protocol, lenient) });
    },
  };
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function send(target: URL, r: EgressRequest, o: { lookup: LookupFunction; agent: http.Agent }): Promise<Response> {
  const maxBytes = Math.min(r.maxResponseBytes ?? MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES);
  const signal = AbortSignal.timeout(r.timeoutMs);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = client.request(target, { method: r.method, headers: r.headers, lookup: o.lookup, agent: o.agent, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 599) {
        res.destroy();
        reject(new Error(`answered with an invalid HTTP status (${status})`));
        return;
      }
      resolve(new Response(status === 204 || status === 205 || status === 304 ? null : cappedStream(res, req, maxBytes), { status, headers: headersOf(res) }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** The answer's body as a web stream that errors (and drops the connection) past maxBytes. */
function cappedStream(res: http.IncomingMessage, req: http.ClientRequest, maxBytes: number): ReadableStream<Uint8Array> {
  let size = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBytes) {
          controller.error(new EgressAnswerTooLarge(maxBytes));
          req.destroy();
          return;
        }
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      res.on('end', () => {
        try {
          controller.close();
        } catch {
          // Already errored.
        }
      });
      res.on('error', (err) => {
        try {
          controller.error(err);
        } catch {
          // Already closed.
        }
      });
    },
    cancel() {
      req.destroy();
    },
  });
}

function headersOf(res: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      try {
        headers.append(name, v);
      } catch {
        // A header value the Headers class refuses is not one we need.
      }
    }
  }
  return headers;
}
