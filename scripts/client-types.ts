// Writes packages/client/src/types.ts from Rescue's OpenAPI document, then builds the client's dist/.
// `node scripts/client-types.ts` starts a throwaway Rescue (embedded database, temporary folder) to
// read its /openapi.json; `node scripts/client-types.ts http://host:port` reads a running one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { startRescue } from '../src/server.ts';
import { typesFromOpenApi } from './openapi-types.ts';

const root = join(import.meta.dirname, '..');

async function documentFrom(url: string | undefined): Promise<unknown> {
  if (url) return (await fetch(`${url.replace(/\/$/, '')}/openapi.json`)).json();
  const dir = mkdtempSync(join(tmpdir(), 'rescue-openapi-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' } as NodeJS.ProcessEnv);
  config.RESCUE_DATA_DIR = dir;
  const rescue = await startRescue(config, { api: true, worker: false });
  try {
    return await (await fetch(`${rescue.url}/openapi.json`)).json();
  } finally {
    await rescue.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const doc = await documentFrom(process.argv[2]);
writeFileSync(join(root, 'packages/client/src/types.ts'), typesFromOpenApi(doc as never));
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'packages/client/tsconfig.json')], { stdio: 'inherit' });
console.log('packages/client/src/types.ts and packages/client/dist/ written');
