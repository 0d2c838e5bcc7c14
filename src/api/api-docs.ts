import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RescueError } from '../errors.ts';

// /docs/api: the OpenAPI document rendered by Swagger UI, served from this origin out of the
// installed swagger-ui-dist package (no CDN, so it works offline and behind a strict firewall).
// Only the files the page needs are served, by name: nothing else of node_modules is reachable.

const swaggerDir: string = createRequire(import.meta.url)('swagger-ui-dist').getAbsoluteFSPath();
const ownDir = join(import.meta.dirname, '..', 'web', 'api-docs');

const FILES: Record<string, { path: string; type: string }> = {
  'swagger-ui.css': { path: join(swaggerDir, 'swagger-ui.css'), type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { path: join(swaggerDir, 'swagger-ui-bundle.js'), type: 'text/javascript; charset=utf-8' },
  'favicon-32x32.png': { path: join(swaggerDir, 'favicon-32x32.png'), type: 'image/png' },
  'init.js': { path: join(ownDir, 'init.js'), type: 'text/javascript; charset=utf-8' },
  'rescue.css': { path: join(ownDir, 'rescue.css'), type: 'text/css; charset=utf-8' },
};

// Swagger UI sets styles through the DOM (allowed) and shows SVG icons as data: images.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rescue API</title>
<link rel="icon" href="/docs/api/favicon-32x32.png">
<link rel="stylesheet" href="/docs/api/swagger-ui.css">
<link rel="stylesheet" href="/docs/api/rescue.css">
</head>
<body>
<header class="rescue-header"><p>The document itself: <a href="/openapi.json">/openapi.json</a>. A typed client: @rescue/client (docs/client.md).</p></header>
<div id="swagger-ui"></div>
<script src="/docs/api/swagger-ui-bundle.js"></script>
<script src="/docs/api/init.js"></script>
</body>
</html>
`;

export function registerApiDocs(app: FastifyInstance) {
  const files = new Map(Object.entries(FILES).map(([name, f]) => [name, { body: readFileSync(f.path), type: f.type }]));
  app.get('/docs/api', (_request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-cache').send(PAGE),
  );
  app.get('/docs/api/:file', (request, reply) => {
    const name = (request.params as { file: string }).file;
    const file = files.get(name);
    if (!file) throw new RescueError('route_not_found', `Unrecognized request URL (${request.method}: /docs/api/${name}).`);
    return reply.header('content-type', file.type).header('x-content-type-options', 'nosniff').header('cache-control', 'public, max-age=3600').send(file.body);
  });
}
