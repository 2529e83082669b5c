// The runtime socket across the appliance's real life cycle (compiled src/main.ts in its own process):
// created mode 600 beside the database by default, left behind by a kill -9 and replaced at the next start,
// removed by a SIGTERM shutdown.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDbPath } from '../helpers/app.js';
import {
  compileApp,
  startAppliance,
  untilListening,
  type ApplianceProcess,
  type CompiledApp,
} from '../helpers/compiled-app.js';
import { freePort } from '../helpers/net.js';
import { socat, socatMissing } from './cli.js';

const missing = socatMissing();
if (missing) console.warn(`skipping the runtime socket process test: ${missing}`);

let compiled: CompiledApp | undefined;
const db = tempDbPath();
let running: ApplianceProcess | undefined;

beforeAll(async () => {
  if (!missing) compiled = await compileApp();
}, 120_000);

afterAll(() => {
  running?.child.kill('SIGKILL');
  compiled?.remove();
  db.cleanup();
});

async function start(): Promise<ApplianceProcess> {
  running = startAppliance(compiled!.main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(await freePort()),
    TETHER_LOG_LEVEL: 'log',
    TETHER_ADMIN_PASSWORD: 'process-test-password-1',
    // Empty is unset: the default place, beside the database.
    TETHER_SOCKET: '',
  });
  await untilListening(running);
  return running;
}

it.skipIf(missing !== undefined)(
  'default socket beside the database; a kill -9 leaves it stale, the next start replaces it, SIGTERM removes it',
  async () => {
    const path = join(dirname(db.dbPath), 'tether.sock');

    const first = await start();
    expect(first.output()).toContain(`runtime socket listening on ${path}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await socat(path, 'show backend\n')).toBe('# name\n\n');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(statSync(path).isSocket()).toBe(true); // left behind, nobody answers on it

    const second = await start();
    expect(await socat(path, 'show backend\n')).toBe('# name\n\n');
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).toBe(0);
    expect(existsSync(path)).toBe(false);
  },
  120_000,
);
