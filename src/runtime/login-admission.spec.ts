import { describe, expect, it } from 'vitest';
import { LoginAdmission, TokenBuckets, loginRequest } from './login-admission.js';

const request = (account: string, cap: number, source = '10.0.0.1') => ({
  backend: 'b',
  account,
  source,
  cap,
  accountRate: null,
  sourceRate: null,
});

describe('LoginAdmission', () => {
  it('caps live sessions per backend and account, and a release frees a slot', () => {
    const admission = new LoginAdmission();
    expect(admission.admit('local', request('900001', 2), 0)).toBe('ok');
    expect(admission.admit('local', request('900001', 2), 0)).toBe('ok');
    expect(admission.admit('local', request('900001', 2), 0)).toBe('cap');
    expect(admission.admit('local', { ...request('900001', 2), backend: 'other' }, 0)).toBe('ok');
    expect(admission.admit('local', request('900002', 2), 0)).toBe('ok');
    admission.release('local', 'b', '900001');
    expect(admission.count('b', '900001')).toBe(1);
    expect(admission.admit('local', request('900001', 2), 0)).toBe('ok');
    expect(admission.admit('local', request('900003', 0), 0)).toBe('cap');
    expect(admission.admit('local', request('900003', -1), 0)).toBe('ok');
  });

  it('a holder that goes away (a dead worker) gives back its slots, and only its own', () => {
    const admission = new LoginAdmission();
    expect(admission.admit(1, request('900001', 2), 0)).toBe('ok');
    expect(admission.admit(2, request('900001', 2), 0)).toBe('ok');
    expect(admission.admit(1, request('900001', 2), 0)).toBe('cap');
    expect(admission.releaseHolder(1)).toBe(1);
    expect(admission.count('b', '900001')).toBe(1);
    // A release from a holder that holds nothing of that account changes nothing.
    admission.release(1, 'b', '900001');
    expect(admission.count('b', '900001')).toBe(1);
    expect(admission.admit(1, request('900001', 2), 0)).toBe('ok');
    expect(admission.admit(1, request('900001', 2), 0)).toBe('cap');
  });

  it('rates per source and per account: token buckets refilled over `per`', () => {
    const admission = new LoginAdmission();
    const rated = (source: string) => ({
      ...request('900001', -1, source),
      sourceRate: { logins: 2, per: 1000 },
      accountRate: { logins: 3, per: 3000 },
    });
    expect(admission.admit('l', rated('a'), 0)).toBe('ok');
    expect(admission.admit('l', rated('a'), 0)).toBe('ok');
    expect(admission.admit('l', rated('a'), 10)).toBe('rate');
    expect(admission.admit('l', rated('b'), 10)).toBe('ok');
    expect(admission.admit('l', rated('c'), 10)).toBe('rate'); // the account's 3 are used
    // 1 s later: one account token back (3 per 3 s), and source a's bucket full again.
    expect(admission.admit('l', rated('a'), 1010)).toBe('ok');
    expect(admission.admit('l', rated('a'), 1010)).toBe('rate');
  });
});

describe('TokenBuckets', () => {
  it('forgets the least recently used bucket past its limit', () => {
    const buckets = new TokenBuckets(2);
    const rate = { logins: 1, per: 60_000 };
    expect(buckets.take('a', rate, 0)).toBe(true);
    expect(buckets.take('b', rate, 0)).toBe(true);
    expect(buckets.take('a', rate, 1)).toBe(false); // a is now the most recent
    expect(buckets.take('c', rate, 2)).toBe(true); // b is forgotten
    expect(buckets.size).toBe(2);
    expect(buckets.take('a', rate, 3)).toBe(false);
    expect(buckets.take('b', rate, 3)).toBe(true); // fresh: full again
  });
});

describe('loginRequest', () => {
  it("an account's override in place of the backend's cap and per-account rate", () => {
    const cmpp = {
      maxConnectionsPerAccount: 5,
      loginRate: { perAccount: { logins: 10, per: 1000 }, perSource: { logins: 3, per: 1000 } },
      accounts: [{ account: '900009', maxConnections: 1, loginRate: { logins: 1, per: 5000 } }],
    };
    expect(loginRequest('b', cmpp, '900001', 's')).toEqual({
      backend: 'b',
      account: '900001',
      source: 's',
      cap: 5,
      accountRate: { logins: 10, per: 1000 },
      sourceRate: { logins: 3, per: 1000 },
    });
    expect(loginRequest('b', cmpp, '900009', 's')).toMatchObject({
      cap: 1,
      accountRate: { logins: 1, per: 5000 },
      sourceRate: { logins: 3, per: 1000 },
    });
    expect(loginRequest('b', { loginRate: { perSource: { logins: 1, per: 100 } } }, 'x', 's')).toMatchObject({
      cap: -1,
      accountRate: null,
    });
  });
});
