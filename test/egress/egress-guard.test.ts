import http from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/egress/address-class.ts';
import { EgressRefused, egressGuard, type ResolvedAddress, type Resolver } from '../../src/egress/egress-guard.ts';

// The egress guard over real sockets: which addresses each rule set reaches, that a name is resolved
// once and the socket goes to the address that was checked, that a refusal happens before any
// connection (so it reads the same for open and closed ports), and that answers are capped.

/** Each form from issue 11, and what it is: forbidden in every mode, or private (only where allowed). */
const FORMS: [url: string, cls: 'forbidden' | 'private' | 'public'][] = [
  ['http://169.254.169.254/latest/meta-data/', 'forbidden'],
  ['http://[fd00:ec2::254]/latest/meta-data/', 'forbidden'], // AWS's IPv6 metadata service
  ['http://100.100.100.200/latest/meta-data/', 'forbidden'], // Alibaba Cloud's
  ['http://[fe80::1]/', 'forbidden'],
  ['http://[100::1]/', 'forbidden'], // discard-only
  ['http://0.0.0.0:5432/', 'forbidden'],
  ['http://[::]/', 'forbidden'],
  ['http://224.0.0.1/', 'forbidden'],
  ['http://[::ffff:169.254.169.254]/', 'forbidden'],
  ['http://[2002:a9fe:a9fe::1]/', 'forbidden'], // 6to4 of 169.254.169.254
  ['http://10.0.0.1/', 'private'],
  ['http://127.0.0.1:5432/', 'private'],
  ['http://2130706433/', 'private'], // 127.0.0.1 as one number
  ['http://[::1]/', 'private'],
  ['http://[2002:7f00:1::1]/', 'private'], // 6to4 of 127.0.0.1
  ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'private'], // Teredo, client 127.0.0.1 (stored inverted)
  ['http://[fec0::1]/', 'private'], // site-local
  ['http://[fd12:3456::1]/', 'private'], // unique-local
  ['http://[::ffff:127.0.0.1]/', 'private'],
  ['http://[::127.0.0.1]/', 'private'], // IPv4-compatible
  ['http://[64:ff9b::10.0.0.1]/', 'private'], // NAT64 of 10.0.0.1
  ['http://100.64.0.1/', 'private'], // CGNAT
  ['http://93.184.215.14/', 'public'],
  ['http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/', 'public'],
  ['http://[2002:5db8:d70e::1]/', 'public'], // 6to4 of a public address
  ['http://[64:ff9b::93.184.215.14]/', 'public'],
];

const noDns: Resolver = async (host) => {
  throw new Error(`no DNS in this test (${host})`);
};

/** A resolver that answers from a table and counts its lookups. */
function tableResolver(answers: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve: Resolver = async (host) => {
    calls.push(host);
    const list = answers[host];
    if (!list) throw new Error(`ENOTFOUND ${host}`);
    return list.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

describe('address classes', () => {
  it.each(FORMS)('%s is %s', (url, cls) => {
    expect(classifyAddress(new URL(url).hostname).class).toBe(cls);
  });
});

describe('egress guard', () => {
  let server: http.Server;
  let port: number;
  const seen: { host: string | undefined; remote: string | undefined }[] = [];
  /** A TCP listener that only counts connections: whatever reaches the port, we know. */
  let tcp: Server;
  let tcpPort: number;
  let tcpConnections = 0;
  let closedPort: number;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, remote: req.socket.localAddress });
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        let sent = 0;
        const pump = () => {
          while (sent < 200 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => (sent = Infinity));
        pump();
        return;
      }
      res.writeHead(req.url === '/moved' ? 302 : 200, req.url === '/moved' ? { location: 'http://169.254.169.254/' } : { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    tcp = createServer((s) => {
      tcpConnections++;
      s.destroy();
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as AddressInfo).port;
    // A port nobody listens on: bound, read, released.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => tcp.close(() => r()));
  });

  const post = { method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 };

  describe.each([
    ['test mode, private allowed (Rescue on loopback)', false, { test: true, live: false }],
    ['test mode, private not allowed (Rescue beyond loopback)', false, { test: false, live: false }],
    ['live mode', true, { test: true, live: false }],
    ['live mode with RESCUE_LIVE_GATEWAY_PRIVATE_ADDRESSES', true, { test: false, live: true }],
  ] as const)('%s', (_name, livemode, allowPrivate) => {
    const guard = egressGuard({ allowPrivate, resolve: noDns });
    const privateAllowed = livemode ? allowPrivate.live : allowPrivate.test;

    it.each(FORMS.filter(([, cls]) => cls !== 'public'))('%s (%s)', async (url, cls) => {
      const allowed = cls === 'private' && privateAllowed;
      if (allowed) await expect(guard.check(url, livemode)).resolves.toBeUndefined();
      else await expect(guard.check(url, livemode)).rejects.toBeInstanceOf(EgressRefused);
      if (!allowed) await expect(guard.request(url, { ...post, livemode })).rejects.toBeInstanceOf(EgressRefused);
    });

    it('a name that resolves to loopback is refused or reached as loopback is, on the address it resolved to', async () => {
      const dns = tableResolver({ 'merchant.test': ['127.0.0.1'] });
      const g = egressGuard({ allowPrivate, resolve: dns.resolve });
      const url = `http://merchant.test:${port}/charge`;
      if (!privateAllowed) {
        await expect(g.request(url, { ...post, livemode })).rejects.toThrow(/merchant\.test \(127\.0\.0\.1\) is a loopback address/);
        return;
      }
      const before = seen.length;
      const res = await g.request(url, { ...post, livemode });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
      // Reached through the address the guard resolved, with the name kept in Host.
      expect(seen.slice(before)).toEqual([{ host: `merchant.test:${port}`, remote: '127.0.0.1' }]);
      expect(dns.calls).toEqual(['merchant.test']);
    });
  });

  it('resolves a name once per connection: a second, different answer (DNS rebinding) is never used for the checked request', async () => {
    // First lookup public, every later one loopback: the check at save time sees the public address,
    // the connection makes its own single lookup, checks it and connects to exactly that.
    let n = 0;
    const calls: string[] = [];
    const rebinding: Resolver = async (host) => {
      calls.push(host);
      return [{ address: n++ === 0 ? '93.184.215.14' : '127.0.0.1', family: 4 }];
    };
    const guard = egressGuard({ allowPrivate: { test: false, live: false }, resolve: rebinding });
    await expect(guard.check(`http://rebind.test:${tcpPort}/`, true)).resolves.toBeUndefined();
    await expect(guard.request(`http://rebind.test:${tcpPort}/`, { ...post, livemode: true })).rejects.toThrow(/rebind\.test \(127\.0\.0\.1\) is a loopback address/);
    expect(calls).toEqual(['rebind.test', 'rebind.test']);
    expect(tcpConnections).toBe(0);
  });

  it('refuses a name when any of its addresses is refused, before connecting', async () => {
    const dns = tableResolver({ 'mixed.test': ['93.184.215.14', '127.0.0.1'], 'meta.test': ['169.254.169.254'] });
    const guard = egressGuard({ allowPrivate: { test: false, live: false }, resolve: dns.resolve });
    await expect(guard.request(`http://mixed.test:${tcpPort}/`, { ...post, livemode: true })).rejects.toThrow(/127\.0\.0\.1/);
    const lenient = egressGuard({ allowPrivate: { test: true, live: true }, resolve: dns.resolve });
    await expect(lenient.request(`http://meta.test:${tcpPort}/`, { ...post, livemode: false })).rejects.toThrow(/link-local/);
    expect(tcpConnections).toBe(0);
  });

  it('reads the same for an open and a closed port of a refused address: nothing is connected to', async () => {
    const guard = egressGuard({ allowPrivate: { test: false, live: false }, resolve: noDns });
    const open = await guard.request(`http://127.0.0.1:${tcpPort}/`, { ...post, livemode: false }).catch((e: Error) => e.message);
    const closed = await guard.request(`http://127.0.0.1:${closedPort}/`, { ...post, livemode: false }).catch((e: Error) => e.message);
    expect(open).toBe(closed);
    expect(open).toMatch(/^Refused before connecting: 127\.0\.0\.1 is a loopback address/);
    expect(open).not.toContain(String(tcpPort));
    expect(tcpConnections).toBe(0);
  });

  it('answers a redirect as a redirect and never follows it', async () => {
    const guard = egressGuard({ allowPrivate: { test: true, live: false }, resolve: noDns });
    const res = await guard.request(`http://127.0.0.1:${port}/moved`, { ...post, livemode: false });
    expect(res.status).toBe(302);
    await res.body?.cancel();
  });

  it('cuts an answer off at its size cap: a 200 MB body costs at most the cap', async () => {
    const guard = egressGuard({ allowPrivate: { test: true, live: false }, resolve: noDns });
    const res = await guard.request(`http://127.0.0.1:${port}/huge`, { ...post, livemode: false, maxResponseBytes: 256 * 1024 });
    expect(res.status).toBe(200);
    let read = 0;
    const reader = res.body!.getReader();
    const error = await (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return null;
        read += chunk.value.byteLength;
      }
    })().catch((e: Error) => e.message);
    expect(error).toMatch(/larger than 262144 bytes/);
    expect(read).toBeLessThanOrEqual(256 * 1024);
  });
});
