// The appliance as `npm start` runs it: src/main.ts compiled (with SWC, the transform the tests run
// under) and started as its own Node process, so a test can signal it or kill -9 it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { transformFile } from '@swc/core';
import { waitFor } from './net.js';

const root = process.cwd();

export interface CompiledApp {
  /** Path of the compiled src/main.js. */
  main: string;
  /** Removes the compiled files. */
  remove(): void;
}

/** What `npm run build` emits for the server; inside node_modules so that packages resolve as from dist/. */
export async function compileApp(): Promise<CompiledApp> {
  const outDir = join(root, 'node_modules', '.cache', `tether-main-${process.pid}-${Date.now()}`);
  const files = ['src', 'migrations'].flatMap((dir) => walk(join(root, dir)));
  await Promise.all(
    files.map(async (file) => {
      const { code } = await transformFile(file, {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
          target: 'es2022',
          keepClassNames: true,
        },
        module: { type: 'es6' },
        sourceMaps: false,
      });
      const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }),
  );
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return {
    main: join(outDir, 'src', 'main.js'),
    remove: () => rmSync(outDir, { recursive: true, force: true }),
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

export interface ApplianceProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts the compiled appliance; env adds to (and overrides) the test process's environment. `openFiles`
 *  starts it under that `ulimit -n` (through bash); `nodeArgs` go to node before the script (e.g. --cpu-prof,
 *  which worker processes inherit). */
export function startAppliance(
  main: string,
  env: Record<string, string>,
  options: { openFiles?: number; nodeArgs?: string[] } = {},
): ApplianceProcess {
  const nodeArgs = options.nodeArgs ?? [];
  const [command, args] =
    options.openFiles === undefined
      ? [process.execPath, [...nodeArgs, main]]
      : [
          'bash',
          [
            '-c',
            `ulimit -n ${Math.floor(options.openFiles)} && exec "$0" "$@"`,
            process.execPath,
            ...nodeArgs,
            main,
          ],
        ];
  const child = spawn(command, args, {
    cwd: root,
    // The data plane in the appliance's own process unless the test asks for worker processes.
    env: { ...process.env, TETHER_WORKERS: '0', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits until the appliance has printed its URLs (it is listening; needs TETHER_LOG_LEVEL log or more); fails with its output otherwise. */
export async function untilListening(app: ApplianceProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    () => {
      if (app.child.exitCode !== null) throw new Error(`the appliance exited:\n${app.output()}`);
      return app.output().includes('API docs');
    },
    timeoutMs,
    `the URLs in the log:\n${app.output()}`,
  );
}
