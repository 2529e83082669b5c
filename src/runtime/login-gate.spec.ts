import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../cmpp/codec.js';
import { DelayedRefusals, refusalFrame } from './login-gate.js';
import type { Session } from './session.js';

describe('refusalFrame', () => {
  it("CONNECT_RESP status 5 in the layout of the client's version, authenticator all zeros", () => {
    const v3 = refusalFrame(0x30, 0xfffffff0);
    expect(v3.length).toBe(33);
    expect(decodeFrame(v3)).toMatchObject({ status: 5, sequenceId: 0xfffffff0, version: 0x30 });
    expect(v3.subarray(16, 32).equals(Buffer.alloc(16))).toBe(true);
    const v2 = refusalFrame(0x20, 7);
    expect(v2.length).toBe(30);
    expect(decodeFrame(v2, 0, '2.0')).toMatchObject({ status: 5, sequenceId: 7, version: 0x20 });
    expect(v2.subarray(13, 29).equals(Buffer.alloc(16))).toBe(true);
  });
});

describe('DelayedRefusals', () => {
  it('answers after the delay, in order, and holds at most its limit', async () => {
    const answered: string[] = [];
    const session = (name: string) => ({ refuseLogin: () => answered.push(name) }) as unknown as Session;
    const queue = new DelayedRefusals(40, 2);
    const startedAt = performance.now();
    expect(queue.add(session('a'), Buffer.alloc(0))).toBe(true);
    expect(queue.add(session('b'), Buffer.alloc(0))).toBe(true);
    expect(queue.add(session('c'), Buffer.alloc(0))).toBe(false);
    expect(answered).toEqual([]);
    for (let i = 0; i < 100 && answered.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(answered).toEqual(['a', 'b']);
    // Timers may fire a millisecond early; never much.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(35);
    expect(queue.size).toBe(0);
    expect(queue.add(session('d'), Buffer.alloc(0))).toBe(true);
    queue.flush();
    expect(answered).toEqual(['a', 'b', 'd']);
  });
});
