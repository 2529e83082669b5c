// /healthz: liveness, the revision in effect, and which listener paths (private Node internals or the
// public fallbacks, docs/runtime-hot-path.md "Node internals") this process uses and why.
import { afterEach, describe, expect, it } from 'vitest';
import { settingsFromEnv } from '../../src/settings.js';
import { startApp, type StartedApp } from '../helpers/app.js';

const apps: StartedApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('/healthz', () => {
  it('shows the self-tested private paths by default', async () => {
    const t = await startApp();
    apps.push(t);
    const res = await t.anonymous.get('/healthz').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', revision: expect.any(Number) });
    expect(res.body.listeners).toEqual({
      pause: 'readstop',
      pauseReason: 'self-test passed',
      accept: 'onread',
      acceptReason: 'self-test passed',
      write: 'handle',
      writeReason: 'self-test passed',
      node: process.version,
      pauseFallbacks: 0,
    });
  });

  it('TETHER_NODE_INTERNALS=off forces the public paths and says so', async () => {
    const t = await startApp({ env: { TETHER_NODE_INTERNALS: 'off' } });
    apps.push(t);
    const res = await t.anonymous.get('/healthz').expect(200);
    expect(res.body.listeners).toMatchObject({
      pause: 'hold',
      accept: 'public',
      write: 'stream',
      pauseReason: 'turned off by setting (TETHER_NODE_INTERNALS=off)',
      acceptReason: 'turned off by setting (TETHER_NODE_INTERNALS=off)',
      writeReason: 'turned off by setting (TETHER_NODE_INTERNALS=off)',
    });
  });

  it('refuses a TETHER_NODE_INTERNALS that is neither on nor off', () => {
    expect(() => settingsFromEnv({ TETHER_NODE_INTERNALS: 'maybe' })).toThrow(
      /TETHER_NODE_INTERNALS must be on or off/,
    );
    expect(settingsFromEnv({}).nodeInternals).toBe(true);
  });
});
