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
import { settingsFromEnv } from '../../src/settings.js';

export interface StartedApp {
  app: INestApplication;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  request: ReturnType<typeof supertest>;
  dbPath: string;
  /** Closes the app (runtime and database included). The temp directory is removed only if startApp made it. */
  close(): Promise<void>;
}

export async function startApp(opts: { dbPath?: string; env?: Record<string, string> } = {}): Promise<StartedApp> {
  const tempDir = opts.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'tether-test-'));
  const dbPath = opts.dbPath ?? join(tempDir as string, 'tether.db');
  const settings = settingsFromEnv({
    TETHER_LOG_LEVEL: 'warn',
    ...opts.env,
    TETHER_DB: dbPath,
    TETHER_HTTP_HOST: '127.0.0.1',
    TETHER_HTTP_PORT: '0',
  });
  const app = await createApp(settings);
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  const url = `http://127.0.0.1:${port}`;
  let closed = false;
  return {
    app,
    url,
    request: supertest(url),
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
