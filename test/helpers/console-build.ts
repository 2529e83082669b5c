// The production console bundle, built when a test needs it and web/dist is missing or older than web/'s sources.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_DIST = join(PROJECT_ROOT, 'web', 'dist');

export function ensureConsoleBuilt(): void {
  const built = join(WEB_DIST, 'index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= newestSourceChange()) return;
  // Test files run in parallel: build aside, then move into place in one step; whoever is second drops theirs.
  const aside = `${WEB_DIST}.build-${process.pid}`;
  buildConsole(aside);
  try {
    if (existsSync(built) && statSync(built).mtimeMs < newestSourceChange())
      rmSync(WEB_DIST, { recursive: true });
    renameSync(aside, WEB_DIST);
  } catch {
    rmSync(aside, { recursive: true, force: true });
  }
}

function newestSourceChange(): number {
  const web = join(PROJECT_ROOT, 'web');
  const files = [join(web, 'index.html'), join(web, 'vite.config.ts'), ...filesUnder(join(web, 'src'))];
  return Math.max(...files.filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** vite build of web/ into `outDir` (absolute; default web/dist). */
export function buildConsole(outDir?: string): void {
  const vite = join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'];
  if (outDir) args.push('--outDir', outDir, '--emptyOutDir');
  // Vitest runs with NODE_ENV=test, which would make vite keep development-only code in the bundle.
  const env = { ...process.env, NODE_ENV: 'production' };
  execFileSync(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: 'inherit', timeout: 120_000 });
}
