import { describe, expect, it } from 'vitest';
import type { BalancedServer } from './balancer.js';
import { FirstBalancer } from './first.js';

const ctx = { clientAddress: '10.0.0.1' };

function server(name: string, index: number, sessions = 0): BalancedServer {
  return { name, weight: 1, index, sessions };
}

describe('first', () => {
  it('chooses the lowest configured index among candidates, however busy', () => {
    expect(new FirstBalancer().elect([server('a', 0, 900), server('b', 1)], ctx)!.name).toBe('a');
  });

  it('moves to the next server once the first is no longer a candidate (at maxconn)', () => {
    const balancer = new FirstBalancer();
    expect(balancer.elect([server('c', 2), server('b', 1)], ctx)!.name).toBe('b');
  });

  it('returns undefined with no candidates', () => {
    expect(new FirstBalancer().elect([], ctx)).toBeUndefined();
  });
});
