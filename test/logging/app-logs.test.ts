// The app's own logs in the appliance as `npm start` runs it (compiled src/main.ts in its own process): pino JSON
// lines with level and msg (the start lines included), TETHER_LOG_LEVEL honoured, no line per HTTP request unless
// debugging, and no secret (password, bearer token, cookie, query string) in any line, at any level.
import { afterAll, beforeAll, expect, it } from 'vitest';
import supertest from 'supertest';
import { tempDbPath } from '../helpers/app.js';
import { loginToken } from '../helpers/auth.js';
import {
  compileApp,
  startAppliance,
  untilListening,
  type ApplianceProcess,
  type CompiledApp,
} from '../helpers/compiled-app.js';
import { freePort, sleep } from '../helpers/net.js';

const PASSWORD = 'app-log-test-password-Zq81';
const QUERY_SECRET = 'query-secret-Hx55';
const COOKIE_SECRET = 'cookie-secret-Pv27';
let compiled: CompiledApp;
const running: ApplianceProcess[] = [];
const dbs: Array<{ cleanup(): void }> = [];

beforeAll(async () => {
  compiled = await compileApp();
}, 120_000);

afterAll(async () => {
  for (const app of running) app.child.kill('SIGKILL');
  compiled?.remove();
  for (const db of dbs) db.cleanup();
});

async function start(level: string): Promise<{ app: ApplianceProcess; url: string }> {
  const db = tempDbPath();
  dbs.push(db);
  const httpPort = await freePort();
  const app = startAppliance(compiled.main, {
    TETHER_DB: db.dbPath,
    TETHER_HTTP_PORT: String(httpPort),
    TETHER_LOG_LEVEL: level,
    TETHER_ADMIN_PASSWORD: PASSWORD,
    TETHER_SOCKET: 'off',
    TETHER_LOG_FORMAT: '',
  });
  running.push(app);
  await untilListening(app);
  return { app, url: `http://127.0.0.1:${httpPort}` };
}

/** Requests carrying every kind of secret: a login (password in the body), a bearer token, a cookie, a query. */
async function secretRequests(url: string): Promise<string> {
  const token = await loginToken(url, 'admin', PASSWORD);
  await supertest(url)
    .post('/api/v1/auth/login')
    .send({ username: 'admin', password: `${PASSWORD}-wrong` });
  await supertest(url)
    .get(`/api/v1/config?token=${QUERY_SECRET}`)
    .set('Authorization', `Bearer ${token}`)
    .set('Cookie', `tether_session=${COOKIE_SECRET}`)
    .expect(200);
  await supertest(url).get('/api/v1/config').set('Authorization', 'Bearer not-a-token-Kk09').expect(401);
  // A refused body: the app answers 4xx and may log it, never its content.
  await supertest(url)
    .put('/api/v1/config')
    .set('Authorization', `Bearer ${token}`)
    .set('content-type', 'application/json')
    .send(`{"frontends": "${PASSWORD}"`);
  return token;
}

function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}\nin:\n${output}`);
      }
    });
}

it('prints JSON lines with level and msg, the start lines first, none per request, no secret', async () => {
  const { app, url } = await start('log');
  const token = await secretRequests(url);
  await sleep(300);
  const output = app.output();
  const lines = jsonLines(output);
  for (const line of lines) {
    expect(typeof line.level, JSON.stringify(line)).toBe('number');
    expect(typeof line.msg, JSON.stringify(line)).toBe('string');
    expect(typeof line.time).toBe('string');
  }
  const messages = lines.map((l) => l.msg as string);
  expect(messages).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^Console {2}http:\/\/127\.0\.0\.1:\d+\/$/),
      expect.stringMatching(/^REST API http/),
      expect.stringMatching(/^API docs http/),
      expect.stringMatching(/revision 0 applied/),
    ]),
  );
  // Nest's context travels as a field.
  expect(lines.find((l) => /^API docs/.test(l.msg as string))).toMatchObject({
    level: 30,
    context: 'Tether',
  });
  // Quiet by default: no line about any request.
  expect(lines.filter((l) => l.req !== undefined || l.res !== undefined)).toEqual([]);
  for (const secret of [PASSWORD, token, QUERY_SECRET, COOKIE_SECRET, 'not-a-token-Kk09'])
    expect(output).not.toContain(secret);
}, 60_000);

it('logs one debug line per request at TETHER_LOG_LEVEL=debug, without headers, cookies, bodies or queries', async () => {
  const { app, url } = await start('debug');
  const token = await secretRequests(url);
  await sleep(300);
  const output = app.output();
  const requests = jsonLines(output).filter((l) => l.req !== undefined);
  const configReads = requests.filter(
    (l) =>
      (l.req as { path?: string }).path === '/api/v1/config' &&
      (l.req as { method?: string }).method === 'GET',
  );
  expect(configReads, output).toHaveLength(2);
  for (const line of requests) {
    expect(line.level).toBe(20);
    expect(Object.keys(line.req as object).sort()).toEqual(['id', 'method', 'path', 'remoteAddress']);
    expect(line.res).toEqual({ statusCode: expect.any(Number) });
  }
  expect(configReads.map((l) => (l.res as { statusCode: number }).statusCode).sort()).toEqual([200, 401]);
  for (const secret of [PASSWORD, token, QUERY_SECRET, COOKIE_SECRET, 'not-a-token-Kk09'])
    expect(output).not.toContain(secret);
}, 60_000);
