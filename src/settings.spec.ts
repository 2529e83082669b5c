import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, settingsFromEnv } from './settings.js';

describe('settingsFromEnv', () => {
  it('takes the defaults from an empty environment', () => {
    expect(settingsFromEnv({})).toMatchObject(DEFAULT_SETTINGS);
  });

  it('refuses TETHER_SOCKET while the runtime socket is not built, instead of ignoring it', () => {
    expect(() => settingsFromEnv({ TETHER_SOCKET: '/tmp/tether.sock' })).toThrow(
      /TETHER_SOCKET is not supported yet/,
    );
  });

  it('refuses a port that is not a port number, naming the variable', () => {
    expect(() => settingsFromEnv({ TETHER_HTTP_PORT: '70000' })).toThrow(/TETHER_HTTP_PORT/);
  });
});
