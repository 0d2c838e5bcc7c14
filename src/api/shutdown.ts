import type { FastifyInstance } from 'fastify';

// A graceful stop of the HTTP server (SIGTERM, src/cli.ts). app.close() stops accepting connections,
// closes idle keep-alive connections and answers 503 to requests that arrive on open ones (Fastify's
// return503OnClosing); requests in flight run to the end. Two things would still hold it open:
// - a keep-alive connection whose request was in flight when the stop began goes idle afterwards
//   and would wait for the keep-alive timeout (72 s): every response sent while stopping carries
//   `Connection: close`, so the socket closes as soon as its answer is out;
// - a request that never ends (a slow client, a hung gateway): after the grace period every
//   connection still open is closed.

const stopping = Symbol('rescue.stopping');

type Stoppable = FastifyInstance & { [stopping]?: boolean };

/** Adds the hooks of a graceful stop; call before the app is ready. */
export function prepareGracefulClose(app: FastifyInstance): void {
  const s = app as Stoppable;
  app.addHook('preClose', async () => {
    s[stopping] = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (s[stopping]) reply.header('connection', 'close');
  });
}

export async function closeGracefully(app: FastifyInstance, graceMs: number): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
  }
}
