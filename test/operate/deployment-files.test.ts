import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../src/config.ts';
import { startTestRescue, type TestRescue } from '../support/harness.ts';
import { REPO } from '../support/workers.ts';
import { parseYamlSubset } from '../support/yaml-subset.ts';

// Docker and systemd cannot run here, so their files are checked against what they name: commands
// the CLI has, files the repository has, settings config.ts reads, ports that match, services that
// exist. The Grafana dashboard's queries are checked against what a running Rescue's /metrics exports.

const read = (path: string) => readFileSync(join(REPO, path), 'utf8');
/** The CLI's commands, as src/cli.ts dispatches them. */
const COMMANDS = new Set([...read('src/cli.ts').matchAll(/case '([a-z-]+)':/g)].map((m) => m[1]!).concat('doctor'));
const SETTINGS = new Set<string>(SETTING_NAMES);

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerInstructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0]!.toUpperCase(), args: l.slice(l.indexOf(' ') + 1).trim() }));
}

function envNames(args: string): string[] {
  return [...args.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!);
}

describe('Dockerfile', () => {
  const steps = dockerInstructions(read('Dockerfile'));

  it('builds from Node 24 (package.json engines), copies only files that exist, and runs a known command as a non-root user', () => {
    const from = steps.find((s) => s.op === 'FROM')!.args;
    const engines = JSON.parse(read('package.json')).engines.node as string;
    expect(from).toMatch(new RegExp(`^node:${engines.replace('>=', '')}\\b`));
    for (const copy of steps.filter((s) => s.op === 'COPY')) {
      const sources = copy.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const src of sources) expect(existsSync(join(REPO, src)), `COPY ${src}`).toBe(true);
    }
    const entrypoint = JSON.parse(steps.find((s) => s.op === 'ENTRYPOINT')!.args) as string[];
    expect(entrypoint[0]).toBe('node');
    expect(existsSync(join(REPO, entrypoint.at(-1)!))).toBe(true);
    const cmd = JSON.parse(steps.find((s) => s.op === 'CMD')!.args) as string[];
    expect(COMMANDS.has(cmd[0]!)).toBe(true);
    expect(steps.find((s) => s.op === 'USER')?.args).toBe('node');
    for (const run of steps.filter((s) => s.op === 'RUN')) {
      for (const script of run.args.match(/src\/\S+\.ts/g) ?? []) expect(existsSync(join(REPO, script)), script).toBe(true);
    }
  });

  it('sets only settings config.ts reads, exposes the port it sets, and keeps node_modules and data out of the context', () => {
    const env = steps.filter((s) => s.op === 'ENV').flatMap((s) => envNames(s.args)).filter((n) => n !== 'NODE_ENV');
    for (const name of env) expect(SETTINGS.has(name), name).toBe(true);
    const port = /PORT=(\d+)/.exec(steps.filter((s) => s.op === 'ENV').map((s) => s.args).join(' '))![1];
    expect(steps.find((s) => s.op === 'EXPOSE')!.args).toBe(port);
    expect(steps.find((s) => s.op === 'HEALTHCHECK')!.args).toContain('/health');
    const ignored = read('.dockerignore').split('\n');
    for (const path of ['node_modules', '.rescue', 'dist']) expect(ignored).toContain(path);
  });
});

describe('compose.yaml', () => {
  const compose = parseYamlSubset(read('compose.yaml')) as any;
  const services = compose.services as Record<string, any>;

  it('Postgres, a one-shot migrate, one api and one worker, started in that order', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'migrate', 'postgres', 'worker']);
    expect(services.postgres.image).toMatch(/^postgres:\d+/);
    expect(services.postgres.healthcheck.test).toContain('CMD-SHELL');
    expect(services.migrate.command).toEqual(['migrate']);
    expect(services.migrate.depends_on.postgres.condition).toBe('service_healthy');
    for (const name of ['api', 'worker']) expect(services[name].depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(services.api.command[0]).toBe('api');
    expect(services.worker.command[0]).toBe('worker');
    for (const name of ['migrate', 'api', 'worker']) expect(COMMANDS.has(services[name].command[0]), name).toBe(true);
    // One image, built once by migrate, run by the others.
    expect(services.migrate.build).toBe('.');
    expect(services.api.image).toBe(services.migrate.image);
    expect(services.worker.image).toBe(services.migrate.image);
    for (const [name, s] of Object.entries(services)) for (const dep of Object.keys(s.depends_on ?? {})) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
    for (const v of services.postgres.volumes as string[]) expect(compose.volumes).toHaveProperty(v.split(':')[0]!);
  });

  it('every Rescue service reaches the compose Postgres with its user and database, and sets only real settings', () => {
    const pg = services.postgres.environment;
    for (const name of ['migrate', 'api', 'worker']) {
      const env = services[name].environment as Record<string, string>;
      const url = new URL(env.DATABASE_URL!.replace(/\$\{POSTGRES_PASSWORD:-([^}]*)\}/, '$1'));
      expect(url.hostname).toBe('postgres');
      expect(url.username).toBe(pg.POSTGRES_USER);
      expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
      for (const key of Object.keys(env)) expect(SETTINGS.has(key), `${name}: ${key}`).toBe(true);
      // An empty value is not "unset" to config.ts: it would stop the process.
      for (const value of Object.values(env)) expect(String(value)).not.toMatch(/:-\}$/);
    }
  });

  it("the api publishes the image's port; the worker's health check asks the port it serves health on", () => {
    const exposed = /EXPOSE (\d+)/.exec(read('Dockerfile'))![1];
    expect(services.api.ports).toContain(`${exposed}:${exposed}`);
    const healthPort = services.worker.command[services.worker.command.indexOf('--health-port') + 1];
    expect(services.worker.healthcheck.test.join(' ')).toContain(`127.0.0.1:${healthPort}/ready`);
    for (const name of ['api', 'worker']) expect(Number.parseInt(services[name].stop_grace_period, 10)).toBeGreaterThanOrEqual(10);
  });
});

describe('systemd units', () => {
  const dir = join(REPO, 'deploy/systemd');
  const units = Object.fromEntries(readdirSync(dir).map((f) => [f, parseIni(readFileSync(join(dir, f), 'utf8'))]));

  function parseIni(text: string): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    let section = '';
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const header = /^\[(\w+)\]$/.exec(line);
      if (header) out[(section = header[1]!)] = {};
      else {
        const eq = line.indexOf('=');
        if (!section || eq < 1) throw new Error(`not a unit line: ${line}`);
        out[section]![line.slice(0, eq)] = line.slice(eq + 1);
      }
    }
    return out;
  }

  it('migrate once, then the api and any number of workers, each running a known command from the install folder', () => {
    expect(Object.keys(units).sort()).toEqual(['rescue-api.service', 'rescue-migrate.service', 'rescue-worker@.service']);
    for (const [name, u] of Object.entries(units)) {
      expect(Object.keys(u), name).toEqual(['Unit', 'Service', 'Install']);
      const command = /src\/cli\.ts (\S+)/.exec(u.Service!.ExecStart!)?.[1];
      expect(COMMANDS.has(command!), `${name}: ${command}`).toBe(true);
      expect(u.Service!.ExecStart).toMatch(/^\/(usr\/bin\/node|bin\/sh) /);
      expect(u.Service!.EnvironmentFile).toBe('/etc/rescue/rescue.env');
      expect(u.Service!.User).toBe('rescue');
    }
    expect(units['rescue-migrate.service']!.Service!.Type).toBe('oneshot');
    for (const name of ['rescue-api.service', 'rescue-worker@.service']) {
      const u = units[name]!;
      expect(u.Unit!.Requires).toBe('rescue-migrate.service');
      expect(u.Service!.KillSignal).toBe('SIGTERM');
      // Rescue exits within 10 s of SIGTERM; systemd must not kill it sooner.
      expect(Number(u.Service!.TimeoutStopSec)).toBeGreaterThanOrEqual(10);
      expect(u.Service!.Restart).toBe('on-failure');
    }
    expect(units['rescue-worker@.service']!.Service!.ExecStart).toContain('--health-port');
  });
});

describe('Grafana dashboard', () => {
  let t: TestRescue;
  beforeAll(async () => {
    t = await startTestRescue({ worker: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it("queries only metrics a running Rescue's /metrics exports, and shows every one of them", async () => {
    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.status).toBe(200);
    const exported = new Set([...(await metrics.text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    expect(exported.size).toBeGreaterThanOrEqual(5);
    const dashboard = JSON.parse(read('deploy/grafana/rescue-dashboard.json'));
    const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((x: any) => x.expr));
    const queried = new Set(exprs.flatMap((e) => e.match(/\brescue_[a-z_]+/g) ?? []));
    for (const name of queried) expect(exported.has(name), name).toBe(true);
    for (const name of exported) expect(queried.has(name), `${name} has no panel`).toBe(true);
    for (const p of dashboard.panels) expect(p.datasource.uid).toBe('${DS_PROMETHEUS}');
    expect(dashboard.__inputs[0].name).toBe('DS_PROMETHEUS');
  });
});
