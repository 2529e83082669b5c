// A backend's own DOWN count (HAProxy's backend chkdown, docs/events.md): transitions only, not the state it starts in.
import { describe, expect, it } from 'vitest';
import { BackendRuntime } from './backend.js';

const config = () => ({
  name: 'be',
  balance: 'roundrobin' as const,
  hashType: 'consistent' as const,
  check: { type: 'none' as const, inter: 5000, fall: 3, rise: 2 },
  sendProxy: 'none' as const,
  onMarkedDown: 'keep' as const,
  servers: [],
});

describe('BackendRuntime DOWN count', () => {
  it('does not count the DOWN a backend starts in, but its downtime runs from then', () => {
    const backend = new BackendRuntime(config());
    backend.setUp(false, 1000);
    expect(backend.up).toBe(false);
    expect(backend.downCount).toBe(0);
    expect(backend.downtime(3000)).toBe(2000);
    backend.setUp(true, 4000);
    backend.setUp(false, 5000);
    expect(backend.downCount).toBe(1);
    expect(backend.downtime(6000)).toBe(4000);
  });

  it('counts every UP→DOWN transition once, and nothing for staying DOWN or going UP', () => {
    const backend = new BackendRuntime(config());
    backend.setUp(true, 0);
    for (let i = 1; i <= 3; i++) {
      backend.setUp(false, i * 10);
      backend.setUp(false, i * 10 + 1);
      expect(backend.downCount).toBe(i);
      backend.setUp(true, i * 10 + 5);
      expect(backend.downCount).toBe(i);
    }
    expect(backend.lastChangeAt).toBe(35);
  });
});
