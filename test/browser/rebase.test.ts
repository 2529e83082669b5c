// The console's 3-way merge after a conflict (web/src/pages/rebase.ts): own edits re-applied on the new
// head, the other change kept wherever this operator did not touch the same field, and every field
// where an own edit replaces the other change reported.
import { describe, expect, it } from 'vitest';
import { describeOverwrite, rebase } from '../../web/src/pages/rebase.js';

const server = (name: string, weight: number) => ({ name, address: '10.0.0.1', port: 7890, weight });
const backend = (servers: ReturnType<typeof server>[], inter = 5000) => ({
  name: 'gw',
  check: { type: 'tcp', inter },
  servers,
});

describe('rebase', () => {
  const base = backend([server('s1', 1), server('s2', 1)]);

  it('keeps the other change where this operator did not edit, and own edits elsewhere', () => {
    const mine = backend([server('s1', 1), server('s2', 1)], 3000);
    const theirs = backend([server('s1', 4), server('s2', 1)]);
    const { merged, overwrites } = rebase(base, mine, theirs);
    expect(merged).toEqual(backend([server('s1', 4), server('s2', 1)], 3000));
    expect(overwrites).toEqual([]);
  });

  it('lets an own edit of the same field win and reports it, by server name', () => {
    const mine = backend([server('s1', 1), server('s2', 3)]);
    const theirs = backend([server('s1', 1), server('s2', 2)]);
    const { merged, overwrites } = rebase(base, mine, theirs);
    expect(merged.servers[1].weight).toBe(3);
    expect(overwrites).toEqual([{ path: 'servers[s2].weight', theirs: 2, mine: 3 }]);
    expect(describeOverwrite(overwrites[0])).toBe('weight 2 → 3');
  });

  it('keeps a server the other operator added and drops one this operator removed', () => {
    const mine = backend([server('s1', 1)]);
    const theirs = backend([server('s1', 1), server('s2', 1), server('s3', 1)]);
    const { merged, overwrites } = rebase(base, mine, theirs);
    expect(merged.servers.map((s) => s.name)).toEqual(['s1', 's3']);
    expect(overwrites).toEqual([]);
  });

  it('reports removing a server the other operator changed', () => {
    const mine = backend([server('s1', 1)]);
    const theirs = backend([server('s1', 1), server('s2', 5)]);
    const { merged, overwrites } = rebase(base, mine, theirs);
    expect(merged.servers.map((s) => s.name)).toEqual(['s1']);
    expect(overwrites).toEqual([{ path: 'servers[s2]', theirs: server('s2', 5), mine: undefined }]);
  });

  it('takes the same edit made twice as no conflict', () => {
    const both = backend([server('s1', 1), server('s2', 2)]);
    expect(rebase(base, both, both)).toEqual({ merged: both, overwrites: [] });
  });
});
