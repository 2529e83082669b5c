import { describe, expect, it } from 'vitest';
import type { FrontendStats, RuntimeStats } from '../runtime/types.js';
import { renderShowInfo, sessionIdOf, sessionPointer } from './cli-formats.js';

function frontend(name: string, status: FrontendStats['status'], ports: number[]): FrontendStats {
  const binds = ports.map((port) => ({ address: '127.0.0.1', port }));
  return {
    name,
    backend: 'be',
    status,
    bind: binds[0],
    binds,
    scur: 1,
    smax: 1,
    slim: 0,
    stot: 2,
    bin: 0,
    bout: 0,
    denied: 0,
    noServer: 0,
    rate: 0,
    rate_max: 0,
  };
}

function info(stats: RuntimeStats): Map<string, string> {
  const text = renderShowInfo(stats, { version: '1', pid: 1, startedAt: 0, maxconn: 100 }, 1000);
  return new Map(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
  );
}

describe('show info', () => {
  it('counts listening binds as Listeners (and Jobs), not frontends', () => {
    const shown = info({
      at: 0,
      uptime: 1,
      frontends: [
        frontend('three', 'OPEN', [1, 2, 3]),
        frontend('one', 'OPEN', [4]),
        frontend('off', 'STOP', [5, 6]),
        frontend('failed', 'FAILED', [7]),
      ],
      backends: [],
    });
    expect(shown.get('Listeners')).toBe('4');
    // Jobs: 4 sessions open (1 per frontend) plus the 4 listeners.
    expect(shown.get('Jobs')).toBe('8');
  });
});

describe('session pointers', () => {
  it('gives every id, one process’s or a worker’s, one 0x… pointer that names it again', () => {
    for (const id of [
      '0',
      '1',
      '4660',
      String(2 ** 36 - 1),
      'w0:0',
      'w1:1',
      'w7:12345',
      `w99999:${2 ** 36 - 1}`,
    ]) {
      const pointer = sessionPointer(id);
      expect(pointer, id).toMatch(/^0x[0-9a-f]{1,14}$/);
      expect(sessionIdOf(pointer), id).toBe(id);
    }
    expect(sessionPointer('w7:1')).not.toBe(sessionPointer('w1:7'));
    expect(sessionPointer('w2:1')).not.toBe(sessionPointer('1'));
  });

  it('refuses what is not such a pointer', () => {
    for (const text of ['w7:1', '1234', '0x', '0xzz', `0x${'f'.repeat(15)}`, '0x20000000000000']) {
      expect(sessionIdOf(text), text).toBeUndefined();
    }
  });
});
