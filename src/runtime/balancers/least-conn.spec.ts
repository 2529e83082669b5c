import { describe, expect, it } from 'vitest';
import type { BalancedServer } from './balancer.js';
import { LeastConnBalancer } from './least-conn.js';

const ctx = { clientAddress: '10.0.0.1' };

function server(name: string, weight: number, index: number, sessions = 0): BalancedServer {
  return { name, weight, index, sessions };
}

describe('leastconn (weighted)', () => {
  it('chooses the server with the fewest sessions', () => {
    const list = [server('a', 1, 0, 5), server('b', 1, 1, 2), server('c', 1, 2, 9)];
    expect(new LeastConnBalancer().elect(list, ctx)!.name).toBe('b');
  });

  it('weighs sessions: 4 sessions on weight 4 is lighter than 2 on weight 1', () => {
    const list = [server('a', 1, 0, 2), server('b', 4, 1, 4)];
    expect(new LeastConnBalancer().elect(list, ctx)!.name).toBe('b');
  });

  it('fills idle servers heaviest first, then in proportion to weight', () => {
    const list = [server('a', 1, 0), server('b', 3, 1)];
    const balancer = new LeastConnBalancer();
    for (let i = 0; i < 40; i++) balancer.elect(list, ctx)!.sessions++;
    expect(list.map((s) => s.sessions)).toEqual([10, 30]);
  });

  it('rotates among equally loaded servers instead of always taking the first', () => {
    const list = [server('a', 1, 0), server('b', 1, 1), server('c', 1, 2)];
    const balancer = new LeastConnBalancer();
    // Sessions are never counted here (e.g. a burst before any connects): ties rotate by index.
    const names = Array.from({ length: 6 }, () => balancer.elect(list, ctx)!.name);
    expect(names.join(' ')).toBe('a b c a b c');
  });

  it('balances connections that come and go', () => {
    const list = [server('a', 1, 0), server('b', 1, 1), server('c', 2, 2)];
    const balancer = new LeastConnBalancer();
    for (let i = 0; i < 400; i++) {
      balancer.elect(list, ctx)!.sessions++;
      if (i % 3 === 0) {
        const busiest = list.reduce((x, y) => (x.sessions / x.weight >= y.sessions / y.weight ? x : y));
        busiest.sessions--;
      }
    }
    const perWeight = list.map((s) => s.sessions / s.weight);
    expect(Math.max(...perWeight) - Math.min(...perWeight)).toBeLessThanOrEqual(1);
  });

  it('returns undefined with no candidates and is deterministic', () => {
    expect(new LeastConnBalancer().elect([], ctx)).toBeUndefined();
    const run = () => {
      const list = [server('a', 2, 0), server('b', 1, 1), server('c', 1, 2)];
      const balancer = new LeastConnBalancer();
      return Array.from({ length: 20 }, (_, i) => {
        const s = balancer.elect(list, ctx)!;
        if (i % 2 === 0) s.sessions++;
        return s.name;
      }).join('');
    };
    expect(run()).toBe(run());
  });
});
