// Issue 9: `retries`, `option redispatch` and per-section timeouts through the real app. A file with two `defaults`
// sections and sections of their own imports to what HAProxy uses for each section, exports to a file HAProxy
// accepts and that imports back unchanged; a client idle past its frontend's timeout is closed, the other
// frontend's isn't; the REST API refuses bad values naming each field; and the retry counts match a real HAProxy 2.6
// on the same backends.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { readDatabase } from '../helpers/sqlite.js';
import {
  closed,
  connect,
  freePort,
  listen,
  named,
  readLine,
  sleep,
  type TestServer,
} from '../helpers/net.js';
import { haproxyCheck } from '../haproxy/haproxy-check.js';
import { haproxyMissing, startHaproxy } from '../stats/haproxy.js';
import { postImport } from './import-helpers.js';

const missing = haproxyMissing();
if (missing) console.warn(`skipping the HAProxy comparisons: ${missing}`);

function twoDefaults(ports: { a: number; b: number; c: number; live: number; dead: number }): string {
  return [
    'global',
    '    maxconn 1000',
    'defaults',
    '    mode tcp',
    '    timeout connect 5s',
    '    timeout client 1s',
    '    timeout server 1h',
    // A file without it imports to no check timeout and exports the defaults' (health-check fields: not here).
    '    timeout check 5s',
    // Likewise a defaults maxconn (the export writes global's there).
    '    maxconn 1000',
    '    retries 3',
    '    no option redispatch',
    'frontend short',
    `    bind 127.0.0.1:${ports.a}`,
    '    default_backend hashed',
    'backend hashed',
    '    balance source',
    '    option redispatch',
    `    server dead 127.0.0.1:${ports.dead}`,
    `    server live 127.0.0.1:${ports.live}`,
    'defaults',
    '    mode tcp',
    '    timeout connect 2s',
    '    timeout client 1h',
    '    timeout server 1h',
    '    timeout tunnel 2h',
    '    timeout check 5s',
    '    maxconn 1000',
    'frontend long',
    `    bind 127.0.0.1:${ports.b}`,
    '    default_backend sticky',
    'frontend other',
    `    bind 127.0.0.1:${ports.c}`,
    '    default_backend sticky',
    'backend sticky',
    '    balance source',
    '    retries 2',
    '    no option redispatch',
    '    timeout server 10m',
    `    server live 127.0.0.1:${ports.live}`,
    '',
  ].join('\n');
}

describe('retries and per-section timeouts through the app', () => {
  let t: StartedApp;
  let live: TestServer;
  let ports: { a: number; b: number; c: number; live: number; dead: number };

  beforeAll(async () => {
    t = await startApp();
    live = await listen(named('live'));
    // Each frontend its own free port (b + 1 could be taken by another test file running beside this one).
    ports = {
      a: await freePort(),
      b: await freePort(),
      c: await freePort(),
      live: live.port,
      dead: await freePort(),
    };
  });
  afterAll(async () => {
    await t?.close();
    await live?.close();
  });

  it('imports two defaults sections and sections of their own as HAProxy resolves them, and round-trips', async () => {
    const imported = await postImport(t, twoDefaults(ports));
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    const config = (await t.request.get('/api/v1/config').expect(200)).body;
    // client: short 1s, long and other 1h → 1h in defaults; connect: hashed 5s, sticky 2s (a tie: the first);
    // server: hashed 1h, sticky 10m; tunnel: only sticky has one.
    expect(config.defaults.timeouts).toEqual({
      connect: 5000,
      client: 3_600_000,
      server: 3_600_000,
      check: 5000,
    });
    expect(config.frontends.map((f: { name: string; timeouts?: unknown }) => [f.name, f.timeouts])).toEqual([
      ['short', { client: 1000 }],
      ['long', undefined],
      ['other', undefined],
    ]);
    const backends = Object.fromEntries(
      config.backends.map((b: Record<string, unknown>) => [
        b.name,
        { retries: b.retries, redispatch: b.redispatch, timeouts: b.timeouts },
      ]),
    );
    expect(backends).toEqual({
      // retries 3 from the first defaults, its own `option redispatch` over the defaults' `no`.
      hashed: { retries: 3, redispatch: undefined, timeouts: undefined },
      sticky: {
        retries: 2,
        redispatch: false,
        timeouts: { connect: 2000, server: 600_000, tunnel: 7_200_000 },
      },
    });

    // The tables (migration 1796900000000) hold them: NULL where absent.
    expect(
      readDatabase(t.dbPath, (db) => ({
        backends: db
          .prepare('SELECT name, retries, redispatch, timeouts FROM backends ORDER BY position')
          .all(),
        frontends: db.prepare('SELECT name, timeouts FROM frontends ORDER BY position').all(),
      })),
    ).toEqual({
      backends: [
        { name: 'hashed', retries: 3, redispatch: null, timeouts: null },
        {
          name: 'sticky',
          retries: 2,
          redispatch: 0,
          timeouts: JSON.stringify({ connect: 2000, server: 600_000, tunnel: 7_200_000 }),
        },
      ],
      frontends: [
        { name: 'short', timeouts: JSON.stringify({ client: 1000 }) },
        { name: 'long', timeouts: null },
        { name: 'other', timeouts: null },
      ],
    });

    const exported = await t.request.get('/api/v1/export/haproxy.cfg').expect(200);
    const check = haproxyCheck(exported.text);
    if (!missing) expect(check.status, check.output).toBe(0);
    const sticky = exported.text.slice(exported.text.indexOf('backend sticky'));
    for (const line of [
      'retries 2',
      'no option redispatch',
      'timeout connect 2000ms',
      'timeout server 600000ms',
      'timeout tunnel 7200000ms',
    ])
      expect(sticky).toContain(line);
    expect(exported.text).toContain('timeout client 1000ms');

    const again = await postImport(t, exported.text);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ revision: imported.body.revision, changed: false });
    expect((await t.request.get('/api/v1/config').expect(200)).body).toEqual(config);
  });

  it("closes a client idle past its frontend's timeout client (1 s), not the other frontend's", async () => {
    const short = await connect(ports.a, { localAddress: '127.0.0.7' });
    const long = await connect(ports.b, { localAddress: '127.0.0.7' });
    expect(await readLine(short, 3000)).toBe('live');
    expect(await readLine(long, 3000)).toBe('live');
    const started = Date.now();
    await closed(short, 5000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // `long` has no timeout client of its own (1 h from its defaults) and `sticky` a tunnel timeout of 2 h.
    await sleep(1200);
    expect(long.readableEnded).toBe(false);
    long.destroy();
  });

  it('refuses bad retries and timeouts naming every field, the same on validate and PUT, and takes units', async () => {
    const config = (await t.request.get('/api/v1/config').expect(200)).body;
    const document = structuredClone(config);
    delete document.revision;
    document.backends[0].retries = 101;
    document.backends[0].redispatch = 'yes';
    document.backends[0].timeouts = { connect: 0, queue: 5000 };
    document.frontends[0].timeouts = { client: -1 };
    for (const send of [
      () => t.request.post('/api/v1/config/validate').send(document),
      () => t.request.put('/api/v1/config').send(document),
    ]) {
      const res = await send();
      expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const fields = (res.body.errors as Array<{ field: string }>).map((e) => e.field);
      for (const field of [
        'backends.0.retries',
        'backends.0.redispatch',
        'backends.0.timeouts.connect',
        'backends.0.timeouts.queue',
        'frontends.0.timeouts.client',
      ])
        expect(
          fields.some((f) => f.replace(/\[(\d+)\]/g, '.$1') === field),
          `${field} in ${fields}`,
        ).toBe(true);
    }
    // A frontend may not set a backend's timeout.
    const frontendConnect = await t.request
      .patch('/api/v1/frontends/short')
      .send({ timeouts: { connect: 5000 } });
    expect(frontendConnect.status).toBe(400);
    expect(JSON.stringify(frontendConnect.body.errors)).toContain('timeouts.connect');
    // Units as HAProxy writes them; read back as ms. null clears.
    const patched = await t.request
      .patch('/api/v1/backends/hashed')
      .send({ retries: 0, redispatch: false, timeouts: { server: '90s', tunnel: '1h' } })
      .expect(200);
    expect(patched.body).toMatchObject({
      retries: 0,
      redispatch: false,
      timeouts: { server: 90_000, tunnel: 3_600_000 },
    });
    const cleared = await t.request
      .patch('/api/v1/backends/hashed')
      .send({ retries: null, redispatch: null, timeouts: null })
      .expect(200);
    expect(cleared.body).not.toHaveProperty('retries');
    expect(cleared.body).not.toHaveProperty('timeouts');
  });
});

/** What the server side said before closing, or by the time its first line came (a live server stays open). */
async function firstWords(client: Socket): Promise<string> {
  let got = '';
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 8000);
    client.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\n')) resolve();
    });
    client.on('close', () => resolve());
    client.on('end', () => resolve());
    void timer;
  }).finally(() => client.destroy());
  return got;
}

describe.skipIf(missing !== undefined)('retries against a real HAProxy 2.6', () => {
  it('counts the same retries and redispatches as HAProxy on the same backends', async () => {
    const live = await listen(named('live'));
    const dead = await freePort();
    const [h1, h2, h3] = [await freePort(), await freePort(), await freePort()];
    const [t1, t2, t3] = [await freePort(), await freePort(), await freePort()];
    const body = (p: number[]) =>
      [
        'defaults',
        '    mode tcp',
        '    timeout connect 2s',
        '    timeout client 10s',
        '    timeout server 10s',
        // Without redispatch, retries stay on the one (dead) server.
        'frontend f1',
        `    bind 127.0.0.1:${p[0]}`,
        '    default_backend b1',
        'backend b1',
        '    balance source',
        '    retries 3',
        '    no option redispatch',
        `    server dead 127.0.0.1:${dead}`,
        // Redispatch on a balance that is not a hash: at once.
        'frontend f2',
        `    bind 127.0.0.1:${p[1]}`,
        '    default_backend b2',
        'backend b2',
        '    balance first',
        '    retries 3',
        '    option redispatch',
        `    server dead 127.0.0.1:${dead}`,
        `    server live 127.0.0.1:${live.port}`,
        // No retry at all.
        'frontend f3',
        `    bind 127.0.0.1:${p[2]}`,
        '    default_backend b3',
        'backend b3',
        '    retries 0',
        `    server dead 127.0.0.1:${dead}`,
        '',
      ].join('\n');
    const haproxy = await startHaproxy(body([h1, h2, h3]));
    const t = await startApp();
    try {
      const imported = await postImport(t, `global\n    maxconn 100\n${body([t1, t2, t3])}`);
      expect(imported.status, JSON.stringify(imported.body)).toBe(200);
      const answers: Record<string, string[]> = { haproxy: [], tether: [] };
      for (const [who, ports] of [
        ['haproxy', [h1, h2, h3]],
        ['tether', [t1, t2, t3]],
      ] as const) {
        for (const port of ports) {
          const client = await connect(port);
          client.write('x');
          // HAProxy waits 1 s before each retry on the same server (b1: 3 s); Tether does not (see the docs).
          answers[who].push((await firstWords(client)).split('\n')[0]);
        }
      }
      expect(answers.tether).toEqual(answers.haproxy);
      const csv = await haproxy.command('show stat');
      const tetherCsv = (await t.request.get('/api/v1/stats?format=csv').expect(200)).text;
      const counts = (text: string) => {
        const [header, ...rows] = text.replace(/^# /, '').trim().split('\n');
        const cols = header.split(',');
        const at = (name: string) => cols.indexOf(name);
        return rows
          .map((r) => r.split(','))
          .filter((r) => r[at('svname')] === 'dead' || r[at('svname')] === 'BACKEND')
          .filter((r) => r[at('pxname')].startsWith('b'))
          .map(
            (r) => `${r[at('pxname')]}/${r[at('svname')]} wretr=${r[at('wretr')]} wredis=${r[at('wredis')]}`,
          )
          .sort();
      };
      expect(counts(tetherCsv)).toEqual(counts(csv));
      expect(counts(csv)).toContain('b1/dead wretr=3 wredis=0');
      expect(counts(csv)).toContain('b2/dead wretr=0 wredis=1');
    } finally {
      await t.close();
      await haproxy.stop();
      await live.close();
    }
  }, 30_000);
});
