import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the built console lives: TETHER_WEB_ROOT, else `web/dist` of the project this file belongs to. The file runs
 * both from src/console (tests, tsx) and from dist/src/console (npm start), so walk up to the package root.
 */
export function consoleRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TETHER_WEB_ROOT) return resolve(env.TETHER_WEB_ROOT);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'web', 'dist');
    dir = dirname(dir);
  }
  return resolve('web', 'dist');
}

/** Paths the console must never answer: the API, metrics and the health probe keep their own 404s. */
export const CONSOLE_EXCLUDE = /^\/(api|metrics|healthz)(\/|$)/;
