import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../helpers/console-build.js';

const LIMIT = 150 * 1024;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('console production bundle', () => {
  // A fresh build of the current sources, in a directory of its own so it never races the app serving web/dist.
  const out = mkdtempSync(join(tmpdir(), 'tether-web-'));
  beforeAll(() => buildConsole(out), 180_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('stays under 150 KB gzipped', () => {
    const sizes = files(out).map((f) => ({ f, gz: gzipSync(readFileSync(f), { level: 9 }).length }));
    const total = sizes.reduce((n, s) => n + s.gz, 0);
    console.log(`console bundle: ${(total / 1024).toFixed(1)} KB gzipped in ${sizes.length} files`);
    expect(sizes.length).toBeGreaterThan(1);
    expect(total).toBeLessThan(LIMIT);
  });

  it('makes no request to another host', () => {
    for (const f of files(out).filter((x) => /\.(html|css|js)$/.test(x))) {
      const text = readFileSync(f, 'utf8');
      // URLs a browser would fetch: src/href attributes, CSS url(), @import. Plain strings in code don't count.
      const fetched = [
        ...text.matchAll(
          /(?:src|href)=["'](https?:)?\/\/[^"']+|url\(\s*["']?(https?:)?\/\/[^)]+\)|@import\s+["']?(https?:)?\/\//g,
        ),
      ];
      expect(
        fetched.map((m) => m[0]),
        f,
      ).toEqual([]);
    }
  });
});
