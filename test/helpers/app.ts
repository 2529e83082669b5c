// Starts the real Tether app (createApp, as `npm start` does) on a temp SQLite file, listening on
// 127.0.0.1:<ephemeral>. Every control-plane test talks to it through `request`, so that adding
// credentials is a change to this file only.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import supertest from 'supertest';
import { createApp } from '../../src/app.factory.js';
import type { Role } from '../../src/auth/roles.js';
import { settingsFromEnv } from '../../src/settings.js';
import { adminClient, roleTokens, TEST_ADMIN_PASSWORD, type Client } from './auth.js';

export interface StartedApp {
  app: INestApplication;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** Sends `Authorization: Bearer <token>` of the user admin (logged in by startApp) with every request. */
  request: ReturnType<typeof supertest>;
  /** No credentials at all. */
  anonymous: ReturnType<typeof supertest>;
  /** An API token of that role (created once through POST /api/v1/tokens), and a client sending it. */
  tokenFor(role: Role): Promise<string>;
  as(role: Role): Promise<Client>;
  dbPath: string;
  /** Closes the app (runtime and database included). The temp directory is removed only if startApp made it. */
  close(): Promise<void>;
}

/**
 * `env.TETHER_ADMIN_PASSWORD` defaults to TEST_ADMIN_PASSWORD; `login: false` skips logging in (for tests of the
 * first start, where the password may be generated), leaving `request` without credentials.
 */
export async function startApp(
  opts: { dbPath?: string; env?: Record<string, string>; login?: boolean } = {},
): Promise<StartedApp> {
  const tempDir = opts.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'tether-test-'));
  const dbPath = opts.dbPath ?? join(tempDir as string, 'tether.db');
  const settings = settingsFromEnv({
    TETHER_LOG_LEVEL: 'warn',
    TETHER_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
    // The data plane in the test process unless a test asks for worker processes.
    TETHER_WORKERS: '0',
    ...opts.env,
    TETHER_DB: dbPath,
    TETHER_HTTP_HOST: '127.0.0.1',
    TETHER_HTTP_PORT: '0',
  });
  const app = await createApp(settings);
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const url = `${settings.tlsCert ? 'https' : 'http'}://127.0.0.1:${port}`;
  let closed = false;
  const login = opts.login !== false && !settings.tlsCert;
  const request = login ? await adminClient(url) : supertest(url);
  const tokens = roleTokens(url, request);
  return {
    app,
    url,
    request,
    anonymous: supertest(url),
    ...tokens,
    dbPath,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** A fresh temp directory for tests that restart the app on the same database file. */
export function tempDbPath(): { dbPath: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tether-test-'));
  return { dbPath: join(dir, 'tether.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
