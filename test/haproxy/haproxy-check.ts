// Debian's `haproxy -c -f` on a config text, for the export tests.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `haproxy -c -f` on the text: its exit status and what it printed. */
export function haproxyCheck(text: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tether-export-'));
  try {
    writeFileSync(join(dir, 'haproxy.cfg'), text);
    const run = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
