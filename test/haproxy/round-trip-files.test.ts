// Issue 9, point 2, over many files: import → export → `haproxy -c` → import gives the same config, for Tether's own
// fixtures and for every file of ../shared/haproxy-corpus the import takes. The parser and the exporter are plain
// functions (the REST round trip is test/import/round-trip.test.ts); names are not resolved here, and the export's
// `init-addr last,libc,none` lets `haproxy -c` accept names this machine does not know. The whole config must come
// back equal: check timeouts (no `timeout check` in the export's defaults), the check settings of a backend whose
// servers were all left out (its `default-server` line), the client timeout of a config without frontends.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeSnapshot } from '../../src/config/normalize.js';
import { exportHaproxy } from '../../src/haproxy/export.js';
import { parseHaproxyConfig } from '../../src/haproxy/parse.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { haproxyMissing } from '../stats/haproxy.js';
import { haproxyCheck } from './haproxy-check.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CORPUS = here('../../../shared/haproxy-corpus');
const FILES: { name: string; text: string }[] = [
  { name: 'seed.cfg', text: readFileSync(here('fixtures/seed.cfg'), 'utf8') },
  { name: 'forms.cfg', text: readFileSync(here('../import/fixtures/forms.cfg'), 'utf8') },
  { name: 'forms-legacy.cfg', text: readFileSync(here('../import/fixtures/forms-legacy.cfg'), 'utf8') },
  ...(existsSync(CORPUS)
    ? readdirSync(CORPUS)
        .filter((f) => f.endsWith('.cfg'))
        .sort()
        .map((f) => ({ name: f, text: readFileSync(join(CORPUS, f), 'utf8') }))
    : []),
];
const missing = haproxyMissing();

function imported(text: string): Snapshot | undefined {
  try {
    return normalizeSnapshot(parseHaproxyConfig(text).snapshot);
  } catch {
    return undefined; // refused (nothing to import): not a round trip
  }
}

describe('import → export → haproxy -c → import', () => {
  // A file the import refuses (nothing to import, e.g. HTTP only) has no round trip: it gets no test here
  // (the corpus and hostile-import tests hold what its refusal says).
  for (const { name, first } of FILES.map((f) => ({ name: f.name, first: imported(f.text) }))) {
    if (first === undefined) continue;
    it(`gives ${name} back the same`, () => {
      const file = exportHaproxy(first!, { revision: 1, exportedAt: new Date(0) });
      if (!missing) {
        const check = haproxyCheck(file);
        expect(check.status, `${check.output}\n${file}`).toBe(0);
      }
      const again = imported(file);
      expect(again, file).toBeDefined();
      expect(again, file).toEqual(first);
    });
  }
});
