import { describe, expect, it } from 'vitest';
import type { LoginRequest } from '../runtime/login-admission.js';
import { RemoteLoginGate } from './login-gate-client.js';
import type { FromWorker } from './protocol.js';

const request: LoginRequest = {
  backend: 'b',
  account: '900001',
  source: '10.0.0.1',
  cap: 1,
  accountRate: null,
  sourceRate: null,
};

describe('RemoteLoginGate (a worker asking the main process)', () => {
  it('sends one admit per login and hands the verdict to its caller', () => {
    const sent: FromWorker[] = [];
    const gate = new RemoteLoginGate((m) => sent.push(m) > 0);
    const verdicts: string[] = [];
    gate.admit(request, (v) => verdicts.push(v));
    gate.admit(request, (v) => verdicts.push(v));
    expect(sent).toEqual([
      { t: 'admit', id: 1, request },
      { t: 'admit', id: 2, request },
    ]);
    gate.answered(2, 'cap');
    gate.answered(1, 'ok');
    gate.answered(1, 'ok'); // a repeat changes nothing
    expect(verdicts).toEqual(['cap', 'ok']);
    gate.release('b', '900001');
    expect(sent[2]).toEqual({ t: 'release', backend: 'b', account: '900001' });
    gate.close();
  });

  it('a channel that is gone, or a verdict that comes too late, leaves no slot taken', async () => {
    const closedGate = new RemoteLoginGate(() => false);
    let verdict = '';
    closedGate.admit(request, (v) => (verdict = v));
    expect(verdict).toBe('unanswered');
    closedGate.close();

    const sent: FromWorker[] = [];
    const gate = new RemoteLoginGate((m) => sent.push(m) > 0, 30);
    const verdicts: string[] = [];
    gate.admit(request, (v) => verdicts.push(v));
    for (let i = 0; i < 100 && verdicts.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(verdicts).toEqual(['unanswered']);
    // The main process admitted it after all: the slot is handed back at once.
    gate.answered(1, 'ok');
    expect(verdicts).toEqual(['unanswered']);
    expect(sent.at(-1)).toEqual({ t: 'release', backend: 'b', account: '900001' });
    gate.close();
  });
});
