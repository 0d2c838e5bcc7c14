import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// The smallest Express look-alike the seed's backend example needs (`app.post(path, handler)`,
// `req.body`, `res.json`, `res.status(...).json`), on node:http, so the example runs as written
// without adding Express to Rescue's dependencies.

export interface MiniRequest {
  body: any;
}

export interface MiniResponse {
  status(code: number): MiniResponse;
  json(body: unknown): MiniResponse;
}

export type MiniHandler = (req: MiniRequest, res: MiniResponse) => unknown;

export interface MiniApp {
  post(path: string, handler: MiniHandler): void;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export function miniExpress(): MiniApp {
  const routes = new Map<string, MiniHandler>();
  let server: Server | null = null;
  return {
    post(path, handler) {
      routes.set(`POST ${path}`, handler);
    },
    async listen() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const handler = routes.get(`${req.method} ${req.url}`);
          if (!handler) {
            res.writeHead(404).end();
            return;
          }
          let status = 200;
          const response: MiniResponse = {
            status(code) {
              status = code;
              return response;
            },
            json(body) {
              res.writeHead(status, { 'content-type': 'application/json' });
              res.end(JSON.stringify(body));
              return response;
            },
          };
          Promise.resolve(handler({ body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') }, response)).catch((err) => {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ crashed: String(err) }));
          });
        });
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
