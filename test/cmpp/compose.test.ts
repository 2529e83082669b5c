// docker/compose.yaml runs the simulators beside Tether (issue 11 point 5). No Docker engine here, so this checks
// what the file relies on: its simulator commands are the compiled CLIs the image holds (`npm run build` output,
// reaching no devDependency, which the image prunes), they run under plain `node` with exactly those arguments
// (ports swapped for free ones) and print their figures; their ports and flags are the README tour's; every
// TETHER_* variable the compose file and the Dockerfile set is one Tether reads; the README's compose command sets
// the variables the file requires.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileApp, type CompiledApp } from '../helpers/compiled-app.js';
import { freePort, waitFor } from '../helpers/net.js';

const root = process.cwd();
const compose = readFileSync(join(root, 'docker/compose.yaml'), 'utf8');
const dockerfile = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};

/** The `command:` of one service: a YAML flow sequence of single-quoted strings (possibly over several lines). */
function command(service: string): string[] {
  const block = new RegExp(`\\n  ${service}:\\n([\\s\\S]*?)(?=\\n  \\S|\\nvolumes:|$)`).exec(compose)?.[1];
  expect(block, `service ${service}`).toBeDefined();
  const list = /command:\s*(\[[\s\S]*?\])/.exec(block!)?.[1];
  expect(list, `${service} command`).toBeDefined();
  return JSON.parse(list!.replace(/'/g, '"')) as string[];
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

/** Bare package names imported (statically or dynamically) by `file` and every src file it reaches. */
function packagesReached(file: string, seen = new Set<string>(), found = new Set<string>()): Set<string> {
  if (seen.has(file)) return found;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
    if (spec.startsWith('.'))
      packagesReached(resolve(dirname(file), spec.replace(/\.js$/, '.ts')), seen, found);
    else if (!spec.startsWith('node:') && !builtinModules.includes(spec))
      found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
  }
  return found;
}

const gatewayCommand = command('gateway-sim');
const spCommand = command('sp-sim');

it('runs the compiled simulator CLIs, which reach no devDependency', () => {
  for (const args of [gatewayCommand, spCommand]) {
    expect(args[0]).toBe('node');
    const source = args[1].replace(/^dist\//, '').replace(/\.js$/, '.ts');
    expect(existsSync(join(root, source)), source).toBe(true);
    expect(source.startsWith('src/'), 'tsconfig.build.json compiles src/ into dist/src/').toBe(true);
    const outside = [...packagesReached(join(root, source))].filter((p) => !(p in pkg.dependencies));
    expect(outside, `${source} imports packages the image prunes`).toEqual([]);
  }
  // The image's build copies what `npm run build` compiles, and keeps dist/.
  for (const copied of ['COPY src ./src', 'COPY --from=build /app/dist ./dist', 'RUN npm run build'])
    expect(dockerfile).toContain(copied);
});

it("uses the README tour's ports and flags", () => {
  const servers = [...readme.matchAll(/\{"name":"gw\d","address":"127\.0\.0\.1","port":(\d+)\}/g)].map(
    (m) => m[1],
  );
  expect(servers).toEqual(['9315', '9316', '9317']);
  expect(flag(gatewayCommand, '--ports')).toBe(servers.join(','));
  const tourGateway = /^npm run sim:gateway -- (.*) &$/m.exec(readme)?.[1].split(' ');
  expect(flag(gatewayCommand, '--throttle')).toBe(flag(tourGateway!, '--throttle'));
  const frontendPort = /"name":"cmpp","bind":\{"address":"0\.0\.0\.0","port":(\d+)\}/.exec(readme)?.[1];
  expect(flag(spCommand, '--connect')).toBe(`127.0.0.1:${frontendPort}`);
  const tourSp = /^npm run sim:sp -- (--connect .*)$/m.exec(readme)?.[1].split(' ');
  for (const name of ['--connect', '--account', '--secret', '--rate', '--window', '--connections'])
    expect(flag(spCommand, name), name).toBe(flag(tourSp!, name));
});

it('sets only variables Tether reads, and the README passes the ones it requires', () => {
  const set = [...`${compose}\n${dockerfile}`.matchAll(/\b(TETHER_[A-Z_]+)\b/g)].map((m) => m[1]);
  expect(set.length).toBeGreaterThan(0);
  const sources = ['src/settings.ts', 'src/console/console-root.ts'].map((f) =>
    readFileSync(join(root, f), 'utf8'),
  );
  for (const name of new Set(set))
    expect(
      sources.some((s) => s.includes(name)),
      name,
    ).toBe(true);
  const required = [...compose.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]);
  expect(required).toEqual(['TETHER_ADMIN_PASSWORD']);
  const run = /`([^`]*docker compose --profile demo -f docker\/compose\.yaml up)`/.exec(readme)?.[1];
  expect(run, "the README's compose command").toBeDefined();
  for (const name of required) expect(run).toMatch(new RegExp(`\\b${name}=\\S+ `));
});

describe('the commands as written', () => {
  let compiled: CompiledApp;
  const children: ReturnType<typeof spawn>[] = [];

  beforeAll(async () => {
    compiled = await compileApp();
  }, 60_000);
  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((r) => child.once('exit', r));
    }
    compiled?.remove();
  });

  function run(args: string[]): { output(): string } {
    const script = join(dirname(dirname(compiled.main)), args[1].replace(/^dist\//, ''));
    const child = spawn(process.execPath, [script, ...args.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    return { output: () => output };
  }

  it('run under node: the gateway throttles, the SP logs in and prints acknowledged SUBMITs', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    const gatewayArgs = [...gatewayCommand];
    gatewayArgs[gatewayArgs.indexOf('--ports') + 1] = ports.join(',');
    const gateway = run(gatewayArgs);
    await waitFor(
      () => gateway.output().includes(`on 127.0.0.1:${ports.join(',')}`),
      10_000,
      gateway.output(),
    );
    expect(gateway.output()).toContain('throttle 300/s per account and node');
    const spArgs = [...spCommand];
    spArgs[spArgs.indexOf('--connect') + 1] = `127.0.0.1:${ports[0]}`;
    const sp = run(spArgs);
    // Bounded: the SP prints a line each second; two logged-in connections and acknowledged SUBMITs within 10 s.
    await waitFor(() => /conns=2 sent=\d+\/s acked=[1-9]\d*\/s/.test(sp.output()), 10_000, sp.output());
    await waitFor(() => /:\d+ conns=2 submit\/s=[1-9]/.test(gateway.output()), 10_000, gateway.output());
    // The README tour's sample of the SP's line names the same figures in the same order.
    const keys = (line: string) => [...line.matchAll(/(\w+)=/g)].map((m) => m[1]);
    const printed = /^t=\d+s .*$/m.exec(sp.output())![0];
    const sample = /^# (t=\d+s conns=.*)$/m.exec(readme)?.[1];
    expect(sample, "the README's sample line").toBeDefined();
    expect(keys(sample!)).toEqual(keys(printed));
  }, 30_000);
});
