// Every way Tether's data plane is started runs the same Node flags (src/runtime/node-flags.ts;
// docs/runtime-hot-path.md, "Memory per idle connection"): `npm start` and the Docker image. The
// benchmark's Node proxies take them from the same constant.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RUNTIME_NODE_FLAGS } from '../../src/runtime/node-flags.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The arguments `node` gets in a shell command line, up to the script it runs. */
function nodeArgs(command: string): string[] {
  const words = command.split(/\s+/);
  const at = words.indexOf('node');
  if (at === -1) return [];
  const args: string[] = [];
  for (const word of words.slice(at + 1)) {
    if (!word.startsWith('-')) break;
    args.push(word);
  }
  return args;
}

describe('Node flags of the data plane', () => {
  it('npm start runs node with RUNTIME_NODE_FLAGS', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(nodeArgs(pkg.scripts.start)).toEqual([...RUNTIME_NODE_FLAGS]);
  });

  it('the Docker image runs node with RUNTIME_NODE_FLAGS', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'docker/Dockerfile'), 'utf8');
    const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    const argv = JSON.parse(cmd![1]) as string[];
    expect(argv[0]).toBe('node');
    expect(nodeArgs(argv.join(' '))).toEqual([...RUNTIME_NODE_FLAGS]);
  });
});
