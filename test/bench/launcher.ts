// How children are started. By default every child script (and Tether's runtime) is bundled once
// with esbuild and run by plain `node`, as Tether runs in production: running through tsx's loader
// would add ~45 MB to each Node proxy's RSS and a loader thread. Fallback: `node --import tsx`.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe } from './ipc.js';
import { atCleanup, benchFile, repoRoot } from './children.js';

export const CHILD_SCRIPTS = ['backend-server.ts', 'load-client.ts', 'pipe-proxy.ts', 'tether-proxy.ts'];
const RUNTIME_SOURCE = 'src/runtime/runtime.ts';

export interface Launcher {
  mode: string;
  /** node arguments that run one of CHILD_SCRIPTS. */
  args(script: string): string[];
  /** The module tether-proxy.ts imports ProxyRuntime from. */
  runtimeModule: string;
  dispose(): void;
}

export async function prepareLauncher(): Promise<Launcher> {
  const tsx: Launcher = {
    mode: 'node --import tsx (esbuild unavailable: NOTE)',
    args: (script) => ['--import', 'tsx', benchFile(script)],
    runtimeModule: join(repoRoot, RUNTIME_SOURCE),
    dispose: () => undefined,
  };
  if (process.env.BENCH_TSX === '1') return { ...tsx, mode: 'node --import tsx (BENCH_TSX=1)' };
  const outdir = join(repoRoot, 'test', 'artifacts', `.bench-build-${process.pid}`);
  try {
    const esbuild = await import('esbuild');
    mkdirSync(outdir, { recursive: true });
    await esbuild.build({
      entryPoints: [
        ...CHILD_SCRIPTS.map((s) => join(repoRoot, 'test', 'bench', s)),
        join(repoRoot, RUNTIME_SOURCE),
      ],
      outbase: repoRoot,
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
    });
    const dispose = () => rmSync(outdir, { recursive: true, force: true });
    atCleanup(dispose);
    return {
      mode: 'esbuild bundle run by plain node',
      args: (script) => [join(outdir, 'test', 'bench', script.replace(/\.ts$/, '.mjs'))],
      runtimeModule: join(outdir, RUNTIME_SOURCE.replace(/\.ts$/, '.mjs')),
      dispose,
    };
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    return { ...tsx, mode: tsx.mode.replace('NOTE', describe(err).split('\n')[0]) };
  }
}
