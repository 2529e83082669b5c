import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, settingsFromEnv, socketPathOf } from './settings.js';

describe('settingsFromEnv', () => {
  it('takes the defaults from an empty environment', () => {
    // DEFAULT_SETTINGS (createApp's, the tests') runs the data plane in-process; the environment's default is 'auto'.
    expect({ ...settingsFromEnv({}), workers: 0 }).toMatchObject(DEFAULT_SETTINGS);
  });

  it('takes TETHER_WORKERS as auto (default) or 0..64 and refuses anything else, naming the variable', () => {
    expect(settingsFromEnv({}).workers).toBe('auto');
    expect(settingsFromEnv({ TETHER_WORKERS: 'auto' }).workers).toBe('auto');
    expect(settingsFromEnv({ TETHER_WORKERS: '0' }).workers).toBe(0);
    expect(settingsFromEnv({ TETHER_WORKERS: '6' }).workers).toBe(6);
    for (const bad of ['-1', '1.5', 'two', '65']) {
      expect(() => settingsFromEnv({ TETHER_WORKERS: bad })).toThrow(/TETHER_WORKERS/);
    }
  });

  it('takes TETHER_SOCKET as the runtime socket path; off turns it off; unset puts it beside the database', () => {
    expect(settingsFromEnv({ TETHER_SOCKET: '/tmp/tether.sock' }).socketPath).toBe('/tmp/tether.sock');
    expect(settingsFromEnv({ TETHER_SOCKET: 'off' }).socketPath).toBe(false);
    expect(socketPathOf(settingsFromEnv({ TETHER_SOCKET: 'off' }))).toBe(false);
    expect(socketPathOf(settingsFromEnv({}))).toBe('data/tether.sock');
    expect(socketPathOf(settingsFromEnv({ TETHER_DB: '/var/lib/tether/t.db' }))).toBe(
      '/var/lib/tether/tether.sock',
    );
    expect(socketPathOf(settingsFromEnv({ TETHER_SOCKET: '' }))).toBe('data/tether.sock');
    expect(socketPathOf(settingsFromEnv({ TETHER_DB: ':memory:' }))).toBe(false);
  });

  it('refuses a TETHER_SOCKET path too long to bind, naming the variable', () => {
    expect(() => settingsFromEnv({ TETHER_SOCKET: '/tmp/' + 'x'.repeat(120) })).toThrow(/TETHER_SOCKET/);
  });

  it('refuses a port that is not a port number, naming the variable', () => {
    expect(() => settingsFromEnv({ TETHER_HTTP_PORT: '70000' })).toThrow(/TETHER_HTTP_PORT/);
  });

  it('takes TETHER_LOG_FORMAT json (default) or haproxy and refuses anything else, naming the variable', () => {
    expect(settingsFromEnv({}).logFormat).toBe('json');
    expect(settingsFromEnv({ TETHER_LOG_FORMAT: 'haproxy' }).logFormat).toBe('haproxy');
    expect(() => settingsFromEnv({ TETHER_LOG_FORMAT: 'text' })).toThrow(/TETHER_LOG_FORMAT/);
  });

  it('takes TETHER_SYSLOG as <ip>:<port>[,<facility>] (local0 by default) and refuses anything else', () => {
    expect(settingsFromEnv({}).syslog).toBeUndefined();
    expect(settingsFromEnv({ TETHER_SYSLOG: '127.0.0.1:514' }).syslog).toEqual({
      host: '127.0.0.1',
      port: 514,
      facility: 'local0',
    });
    expect(settingsFromEnv({ TETHER_SYSLOG: '[::1]:5514,local2' }).syslog).toEqual({
      host: '::1',
      port: 5514,
      facility: 'local2',
    });
    for (const bad of ['127.0.0.1', 'logs.example:514', '127.0.0.1:70000', '127.0.0.1:514,local9'])
      expect(() => settingsFromEnv({ TETHER_SYSLOG: bad })).toThrow(/TETHER_SYSLOG/);
  });
});
