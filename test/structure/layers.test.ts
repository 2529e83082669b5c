// The bottom layers stay at the bottom (issue 8, point 23): src/schema/ (the snapshot types and the one
// table of rules) imports nothing from the rest of src, and src/common/ imports only schema/ and itself.
// The console imports the snapshot types, so src/schema/snapshot.ts and what it imports stay free of Node.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every relative import of a layer's files, as the src/ folder it reaches (`config`, `schema`, ...). */
function importsOf(layer: string): Array<{ file: string; target: string }> {
  const found: Array<{ file: string; target: string }> = [];
  for (const name of readdirSync(join(SRC, layer))) {
    if (!name.endsWith('.ts')) continue;
    const file = join(SRC, layer, name);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0];
      found.push({ file: `${layer}/${name}`, target });
    }
  }
  return found;
}

describe('layers', () => {
  it('src/schema imports nothing from the rest of src', () => {
    expect(importsOf('schema').filter((i) => i.target !== 'schema')).toEqual([]);
  });

  it('src/common imports only src/schema and itself', () => {
    expect(importsOf('common').filter((i) => i.target !== 'common' && i.target !== 'schema')).toEqual([]);
  });

  it('src/haproxy (the haproxy.cfg parser) is plain: only src/schema, itself and node:', () => {
    expect(importsOf('haproxy').filter((i) => i.target !== 'haproxy' && i.target !== 'schema')).toEqual([]);
    for (const name of readdirSync(join(SRC, 'haproxy')).filter((n) => !n.endsWith('.spec.ts'))) {
      expect(readFileSync(join(SRC, 'haproxy', name), 'utf8'), name).not.toMatch(/from '(?!node:|\.)/);
    }
  });

  it('the snapshot types the console imports need nothing from Node', () => {
    for (const file of ['snapshot.ts', 'fields.ts']) {
      expect(readFileSync(join(SRC, 'schema', file), 'utf8')).not.toMatch(/from '(node:|[a-z@])/);
    }
  });
});
