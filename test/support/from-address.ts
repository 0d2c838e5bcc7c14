import http from 'node:http';
import type { Reply } from './harness.ts';

// A request from a chosen loopback address (127.0.0.2, 127.0.0.3, …: Linux routes all of 127/8 to
// the loopback interface), so tests can be several clients without a proxy in front of Rescue.

export function fromAddress(localAddress: string, base: string, method: string, path: string, o: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, localAddress, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, headers });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
