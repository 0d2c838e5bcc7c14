import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

// The demo merchant's webhook receiver: a real HTTP server on loopback that verifies each
// delivery's signature as a merchant's would, and counts what it received by event type.

export interface WebhookSink {
  url: string;
  /** Set once the endpoint exists (its secret is shown when it is created). */
  useSecret(secret: string): void;
  received: Map<string, number>;
  rejected: number;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  let verifier: Webhook | null = null;
  const received = new Map<string, number>();
  const sink: WebhookSink = {
    url: '',
    useSecret: (secret) => void (verifier = new Webhook(secret)),
    received,
    rejected: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (!verifier) throw new Error('no secret yet');
        const event = verifier.verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as { type: string };
        received.set(event.type, (received.get(event.type) ?? 0) + 1);
        res.writeHead(204).end();
      } catch {
        sink.rejected++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rescue-hooks`;
  // Keep-alive sockets from the worker must not hold the process open once the demo is done.
  server.keepAliveTimeout = 1000;
  return sink;
}
