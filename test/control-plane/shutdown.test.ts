// The appliance as `npm start` runs it (src/main.ts, compiled): prints its URLs, applies the stored
// config at boot, and on SIGTERM closes everything — counting the client connections it cut — and
// exits 0 within 10 s, leaving the database consistent.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { transformFile } from '@swc/core';
import { afterAll, expect, it } from 'vitest';
import { startApp, tempDbPath } from '../helpers/app.js';
import { closed, connect, freePort, listen, named, readLine, waitFor } from '../helpers/net.js';
import { accepts, backendBody, frontendBody, serverBody } from './fixtures.js';

const root = process.cwd();
// Inside node_modules so that the compiled files resolve packages like dist/ does.
const outDir = join(root, 'node_modules', '.cache', `tether-main-${process.pid}`);
const db = tempDbPath();

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  db.cleanup();
});

/** What `npm run build` emits for the server, made with SWC (the same transform the tests run under). */
async function compile(): Promise<string> {
  const files = ['src', 'migrations'].flatMap((dir) => walk(join(root, dir)));
  await Promise.all(
    files.map(async (file) => {
      const { code } = await transformFile(file, {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: false,
      });
      const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }),
  );
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return join(outDir, 'src', 'main.js');
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

it('boots the stored config, prints its URLs, and on SIGTERM exits 0 within 10 s counting the connections it closed', async () => {
  const main = await compile();
  const upstream = await listen(named('up'));
  const port = await freePort();
  const httpPort = await freePort();

  // Store a config with the real app, as an operator would have done before the restart.
  const setup = await startApp({ dbPath: db.dbPath });
  await setup.request
    .post('/api/v1/backends')
    .send(backendBody('b', [serverBody('s', upstream.port)]))
    .expect(201);
  await setup.request
    .post('/api/v1/frontends')
    .send(frontendBody('fe', port, 'b'))
    .expect(201);
  const revision = (await setup.request.get('/api/v1/config')).body.revision;
  await setup.close();

  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: {
      ...process.env,
      TETHER_DB: db.dbPath,
      TETHER_HTTP_PORT: String(httpPort),
      TETHER_LOG_LEVEL: 'log',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => output.includes('API docs'), 30_000, `the URLs in the log:\n${output}`);
    expect(output).toContain(`REST API http://127.0.0.1:${httpPort}/api/v1`);
    expect(output).toContain(`API docs http://127.0.0.1:${httpPort}/api/docs`);
    expect(output).toContain(`Console  http://127.0.0.1:${httpPort}/`);

    const clients = [await connect(port), await connect(port)];
    for (const c of clients) expect(await readLine(c)).toBe('up');

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const took = Date.now() - signalledAt;
    expect(code, output).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(output).toContain('2 client connection(s) closed');
    await Promise.all(clients.map((c) => closed(c)));
    expect(await accepts(port)).toBe(false);
    console.log(`SIGTERM → exit 0 in ${took} ms`);
  } finally {
    child.kill('SIGKILL');
    await upstream.close();
  }

  // The database is consistent: the same revision comes back.
  const after = await startApp({ dbPath: db.dbPath });
  expect((await after.request.get('/api/v1/config')).body.revision).toBe(revision);
  await after.close();
});
