// Issue 8, points 6 and 9, for databases made before them: the TokenOwners migration gives every API token the user
// that made it (directly or through another token), caps it at that user's role, drops tokens whose maker is gone,
// and a token whose secret was hashed with scrypt still works and is rehashed with SHA-256 on its first use.
import { createRequire } from 'node:module';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { hashSecret } from '../../src/auth/secret-hash.js';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { startApp, tempDbPath, type StartedApp } from '../helpers/app.js';
import { TEST_ADMIN_PASSWORD, withBearer } from '../helpers/auth.js';
import { readDatabase } from '../helpers/sqlite.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
  prepare(sql: string): { run(...params: unknown[]): unknown };
  close(): void;
};

const secret = (n: number) => String(n).repeat(43).slice(0, 43);

describe('API tokens of a database made before token owners', () => {
  const db = tempDbPath();
  let t: StartedApp;

  beforeAll(async () => {
    // The schema as it was: only the migrations before TokenOwners.
    const before = new DataSource({ ...dataSourceOptions(db.dbPath), migrations: migrations.slice(0, 2) });
    await before.initialize();
    await before.destroy();
    const sqlite = new Database(db.dbPath);
    const user = sqlite.prepare('INSERT INTO users (id, username, role, passwordHash) VALUES (?, ?, ?, ?)');
    user.run(1, 'admin', 'admin', await hashSecret(TEST_ADMIN_PASSWORD));
    user.run(2, 'olga', 'operator', await hashSecret('olga-password-1'));
    const token = sqlite.prepare(
      'INSERT INTO api_tokens (id, name, role, secretHash, createdBy) VALUES (?, ?, ?, ?, ?)',
    );
    token.run(1, 'by-admin', 'admin', await hashSecret(secret(1)), 'admin');
    token.run(2, 'by-olga', 'admin', await hashSecret(secret(2)), 'olga');
    token.run(3, 'by-deleted-user', 'admin', await hashSecret(secret(3)), 'gone');
    token.run(4, 'by-token', 'admin', await hashSecret(secret(4)), 'token:by-olga');
    // Token 5 was revoked before the upgrade: its id must not come back.
    token.run(5, 'revoked', 'viewer', await hashSecret(secret(5)), 'admin');
    sqlite.prepare('DELETE FROM api_tokens WHERE id = 5').run();
    sqlite.close();
    t = await startApp({ dbPath: db.dbPath });
  });
  afterAll(async () => {
    await t?.close();
    db.cleanup();
  });

  it('keeps tokens with a known maker, capped at the role of their owner, and drops the others', async () => {
    const listed = (await t.request.get('/api/v1/tokens').expect(200)).body as { id: number; role: string }[];
    expect(listed.map(({ id, role }) => ({ id, role }))).toEqual([
      { id: 1, role: 'admin' },
      { id: 2, role: 'operator' },
      { id: 4, role: 'operator' },
    ]);
    const owners = readDatabase(t.dbPath, (sqlite) =>
      sqlite.prepare('SELECT id, ownerId FROM api_tokens ORDER BY id').all(),
    );
    expect(owners).toEqual([
      { id: 1, ownerId: 1 },
      { id: 2, ownerId: 2 },
      { id: 4, ownerId: 2 },
    ]);
    expect(
      (await t.request.post('/api/v1/tokens').send({ name: 'new', role: 'viewer' }).expect(201)).body.id,
    ).toBe(6);
  });

  it('accepts a scrypt-hashed token and rehashes it with SHA-256 on first use', async () => {
    const byAdmin = withBearer(t.url, `tth_1_${secret(1)}`);
    await byAdmin.get('/api/v1/users').expect(200);
    const stored = () =>
      readDatabase(
        t.dbPath,
        (sqlite) =>
          (sqlite.prepare('SELECT secretHash FROM api_tokens WHERE id = 1').get() as { secretHash: string })
            .secretHash,
      );
    expect(stored()).toMatch(/^sha256\$[0-9a-f]{64}$/);
    await byAdmin.get('/api/v1/users').expect(200);
    // A wrong secret is still refused after the rehash.
    expect((await withBearer(t.url, `tth_1_${secret(9)}`).get('/api/v1/users')).status).toBe(401);
    // The capped token of an operator can no longer do admin things; the one of a deleted maker is gone.
    expect((await withBearer(t.url, `tth_2_${secret(2)}`).get('/api/v1/users')).status).toBe(403);
    expect((await withBearer(t.url, `tth_3_${secret(3)}`).get('/api/v1/frontends')).status).toBe(401);
  });
});
