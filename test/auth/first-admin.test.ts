// Issue 4, point 3: the first user, where its password comes from, and that no default password ever exists.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../helpers/app.js';
import { readDatabase } from '../helpers/sqlite.js';

/** Runs fn while teeing everything written to stdout and stderr (where Nest's logger writes) into a string. */
async function capturingLog<T>(fn: () => Promise<T>): Promise<{ result: T; log: string }> {
  let log = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const tee =
    (write: typeof out) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      log += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tee(out) as typeof process.stdout.write;
  process.stderr.write = tee(err) as typeof process.stderr.write;
  try {
    return { result: await fn(), log };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const login = (url: string, username: string, password: string) =>
  supertest(url).post('/api/v1/auth/login').send({ username, password });

describe('first start', () => {
  const dirs: string[] = [];
  let t: StartedApp | undefined;
  const tempDb = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-first-admin-'));
    dirs.push(dir);
    return join(dir, 'tether.db');
  };

  afterEach(async () => {
    await t?.close();
    t = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates admin with TETHER_ADMIN_PASSWORD and prints no password', async () => {
    const { result, log } = await capturingLog(() =>
      startApp({
        dbPath: tempDb(),
        env: { TETHER_ADMIN_PASSWORD: 'from-the-env-42', TETHER_LOG_LEVEL: 'log' },
        login: false,
      }),
    );
    t = result;
    expect(log).toContain('TETHER_ADMIN_PASSWORD');
    expect(log).not.toContain('from-the-env-42');
    const res = await login(t.url, 'admin', 'from-the-env-42');
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ username: 'admin', role: 'admin' });
  });

  it('generates a random password when none is set, prints it once, and keeps it across restarts', async () => {
    const dbPath = tempDb();
    const first = await capturingLog(() =>
      startApp({ dbPath, env: { TETHER_ADMIN_PASSWORD: '' }, login: false }),
    );
    t = first.result;
    const match = /generated password: (\S+)/.exec(first.log);
    expect(match, first.log).not.toBeNull();
    const password = match![1];
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await login(t.url, 'admin', password)).status).toBe(200);
    await t.close();

    // Second start on the same database: the user exists, nothing is printed, an env password changes nothing.
    const second = await capturingLog(() =>
      startApp({ dbPath, env: { TETHER_ADMIN_PASSWORD: 'ignored-now-99' }, login: false }),
    );
    t = second.result;
    expect(second.log).not.toContain(password);
    expect(second.log).not.toMatch(/generated password/);
    expect((await login(t.url, 'admin', password)).status).toBe(200);
    expect((await login(t.url, 'admin', 'ignored-now-99')).status).toBe(401);
  });

  it('never accepts a default or empty password', async () => {
    const dbPath = tempDb();
    const started = await capturingLog(() =>
      startApp({ dbPath, env: { TETHER_ADMIN_PASSWORD: '' }, login: false }),
    );
    t = started.result;
    for (const guess of ['admin', 'password', 'tether', 'changeme', '123456', 'admin123']) {
      expect((await login(t.url, 'admin', guess)).status, guess).toBe(401);
    }
    expect((await login(t.url, 'admin', '')).status).toBe(400);
    const users = readDatabase(
      dbPath,
      (db) => db.prepare('SELECT username, role, passwordHash FROM users').all() as Record<string, string>[],
    );
    expect(users.map((u) => [u.username, u.role])).toEqual([['admin', 'admin']]);
    expect(users[0].passwordHash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[^$]{16,}\$[^$]{64,}$/);
  });
});
