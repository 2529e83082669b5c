// `npm run import`'s script (src/cli/import.ts) against the real app over HTTP: a dry run, an import,
// a refusal, wrong usage; and the script run as a process, as npm runs it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport, type CliIo } from '../../src/cli/import.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { connect, echo, freePort, listen, readBytes, type TestServer } from '../helpers/net.js';

function capture(stdin = ''): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l), stdin: async () => stdin };
}

describe('npm run import', () => {
  let t: StartedApp;
  let upstream: TestServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    t = await startApp();
    upstream = await listen(echo);
    dir = mkdtempSync(join(tmpdir(), 'tether-import-'));
    env = { TETHER_URL: t.url, TETHER_TOKEN: await t.tokenFor('admin') };
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function cfg(port: number): string {
    const path = join(dir, `haproxy-${port}.cfg`);
    writeFileSync(
      path,
      `listen gw 127.0.0.1:${port}\n  mode tcp\n  option dontlognull\n  server a 127.0.0.1:${upstream.port} check`,
    );
    return path;
  }

  it('dry-runs a file: the diff and the warnings, nothing applied', async () => {
    const io = capture();
    const code = await runImport([cfg(await freePort()), '--dry-run'], env, io);
    expect(code, io.stderr.join('\n')).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/dry run against revision 0: \d+ change\(s\), nothing applied/);
    expect(io.stderr.join('\n')).toMatch(
      /warning: line 3: option dontlognull\n\s+`option dontlognull` is not imported/,
    );
    expect((await t.request.get('/api/v1/config')).body.revision).toBe(0);
  });

  it('imports a file, which then serves', async () => {
    const port = await freePort();
    const io = capture();
    expect(await runImport([cfg(port), '--message', 'cli import'], env, io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(/imported: revision \d+ is in effect/);
    const client = await connect(port);
    client.write('ping');
    expect((await readBytes(client, 4)).toString()).toBe('ping');
    client.destroy();
  });

  it('reads standard input for `-`, and says why Tether refused (exit 1)', async () => {
    const io = capture('global\n  maxconn 5\n');
    expect(await runImport(['-'], env, io)).toBe(1);
    expect(io.stderr.join('\n')).toMatch(
      /refused \(400 VALIDATION_FAILED\):\n\s+the file holds no TCP frontend/,
    );
  });

  it('refuses wrong usage (exit 2) and a missing token', async () => {
    expect(await runImport([], env, capture())).toBe(2);
    expect(await runImport(['a.cfg', '--frobnicate'], env, capture())).toBe(2);
    const io = capture();
    expect(await runImport(['a.cfg'], { TETHER_URL: t.url }, io)).toBe(2);
    expect(io.stderr[0]).toMatch(/TETHER_TOKEN is not set/);
  });

  it('runs as a process and exits with the outcome', async () => {
    const script = fileURLToPath(new URL('../../src/cli/import.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
    const child = spawn(tsx, [script, cfg(await freePort()), '--dry-run'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/nothing applied/);
  });
});
