// The seed haproxy.cfg and the import route, shared by the import tests.
import { readFileSync } from 'node:fs';
import type { StartedApp } from '../helpers/app.js';

export const SEED = readFileSync(new URL('../haproxy/fixtures/seed.cfg', import.meta.url), 'utf8');
export const IMPORT = '/api/v1/import/haproxy';

/** The seed with only its ports rewritten (the frontend's and the three servers'), its bind on `address`. */
export function seedOn(frontendPort: number, serverPorts: number[], address = '*'): string {
  return SEED.replace('*:9999', `${address}:${frontendPort}`)
    .replace('127.0.0.1:9315', `127.0.0.1:${serverPorts[0]}`)
    .replace('127.0.0.1:9316', `127.0.0.1:${serverPorts[1]}`)
    .replace('127.0.0.1:9317', `127.0.0.1:${serverPorts[2]}`);
}

/** POST /import/haproxy with `text` as the text/plain body. */
export function postImport(t: StartedApp, text: string, query: Record<string, string> = {}) {
  return t.request.post(IMPORT).query(query).set('content-type', 'text/plain').send(text);
}
