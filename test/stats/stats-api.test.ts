// GET /stats (JSON and HAProxy CSV) and GET /stats/history through the real app, with real traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeStats, StatsSample } from '../../src/runtime/types.js';
import { startApp, type StartedApp } from '../helpers/app.js';
import { configure, setServerState } from './setup.js';
import { freePort, waitFor } from '../helpers/net.js';
import { connectClient, echoServer, type Client, type EchoServer } from './tcp.js';

// Captured from Debian's haproxy 2.6.12 (`show stat`); written out here so the test can't agree with itself.
const HAPROXY_26_HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,' +
  'act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,' +
  'check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,' +
  'req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,' +
  'rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,' +
  'agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,' +
  'wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,' +
  'idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,' +
  'agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,' +
  'h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,' +
  'h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,' +
  'h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,' +
  'h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,';
const COLUMNS = HAPROXY_26_HEADER.slice(2).split(',');
const col = (name: string) => COLUMNS.indexOf(name);

describe('stats over HTTP', () => {
  let started: StartedApp;
  let gw1: EchoServer;
  let gw2: EchoServer;
  let port: number;
  const clients: Client[] = [];

  beforeAll(async () => {
    [gw1, gw2] = await Promise.all([echoServer(), echoServer()]);
    started = await startApp();
    port = await freePort();
    await configure(started, {
      frontend: 'sms',
      backend: 'ismg',
      port,
      maxconn: 200,
      servers: [
        { name: 'gw1', port: gw1.port },
        { name: 'gw2', port: gw2.port, weight: 3 },
      ],
    });
  });

  afterAll(async () => {
    for (const c of clients) c.socket.destroy();
    await started?.close();
    await Promise.all([gw1?.close(), gw2?.close()]);
  });

  const stats = async (): Promise<RuntimeStats> => {
    const res = await started.request.get('/api/v1/stats');
    expect(res.status).toBe(200);
    return res.body as RuntimeStats;
  };

  it('lists the frontend and the backend with health and admin state as separate fields', async () => {
    const body = await stats();
    expect(body.frontends).toEqual([
      expect.objectContaining({
        name: 'sms',
        backend: 'ismg',
        status: 'OPEN',
        bind: { address: '127.0.0.1', port },
      }),
    ]);
    const [backend] = body.backends;
    expect(backend).toMatchObject({ name: 'ismg', balance: 'roundrobin' });
    expect(backend!.servers.map((s) => [s.name, s.adminState, s.weight])).toEqual([
      ['gw1', 'ready', 1],
      ['gw2', 'ready', 3],
    ]);
    for (const s of backend!.servers) expect(['UP', 'DOWN']).toContain(s.health);
  });

  it('moves stot, scur, bin and bout with real traffic', async () => {
    await waitFor(
      async () =>
        (await stats()).backends[0]!.servers.every((s) => s.health === 'UP' && s.check_status === 'L4OK'),
      10_000,
      'both servers UP',
    );
    const before = await stats();
    for (let i = 0; i < 4; i++) {
      const client = await connectClient(port, `127.0.0.${10 + i}`);
      clients.push(client);
      await client.roundTrip('CMPP_CONNECT-0123456789'); // 23 bytes each way
    }
    const after = await stats();
    const [fb, fa] = [before.frontends[0]!, after.frontends[0]!];
    expect(fa.stot - fb.stot).toBe(4);
    expect(fa.scur).toBe(4);
    expect(fa.bin - fb.bin).toBe(4 * 23);
    expect(fa.bout - fb.bout).toBe(4 * 23);
    const [bb, ba] = [before.backends[0]!, after.backends[0]!];
    expect(ba.stot - bb.stot).toBe(4);
    expect(ba.scur).toBe(4);
    expect(ba.bin - bb.bin).toBe(4 * 23);
    const servers = ba.servers;
    expect(servers.reduce((n, s) => n + s.scur, 0)).toBe(4);
    expect(servers.reduce((n, s) => n + s.stot, 0) - bb.servers.reduce((n, s) => n + s.stot, 0)).toBe(4);
    // roundrobin 1:3 over four sessions.
    expect(servers.map((s) => s.scur)).toEqual([1, 3]);
    expect(servers.every((s) => s.oldestSessionAge >= 0)).toBe(true);
  });

  it('answers HAProxy 2.6 show stat CSV: exact header, FRONTEND, servers, BACKEND', async () => {
    const res = await started.request.get('/api/v1/stats?format=csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.text.split('\n').filter((l) => l !== '');
    expect(lines[0]).toBe(HAPROXY_26_HEADER);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => `${r[0]}/${r[1]}`)).toEqual([
      'sms/FRONTEND',
      'ismg/gw1',
      'ismg/gw2',
      'ismg/BACKEND',
    ]);
    for (const row of rows) expect(row).toHaveLength(COLUMNS.length);
    const [fe, gw1Row, gw2Row, be] = rows as [string[], string[], string[], string[]];
    expect([fe[col('type')], gw1Row[col('type')], be[col('type')]]).toEqual(['0', '2', '1']);
    expect(fe[col('status')]).toBe('OPEN');
    expect(fe[col('slim')]).toBe('200');
    expect(Number(fe[col('stot')])).toBeGreaterThanOrEqual(4);
    expect(fe[col('scur')]).toBe('4');
    expect(fe[col('econ')]).toBe(''); // HAProxy leaves backend-side columns empty on a FRONTEND row
    expect(gw1Row[col('status')]).toBe('UP');
    expect(gw1Row[col('check_status')]).toBe('L4OK');
    expect(gw1Row[col('check_desc')]).toBe('Layer4 check passed');
    expect([gw1Row[col('check_rise')], gw1Row[col('check_fall')], gw1Row[col('check_health')]]).toEqual([
      '2',
      '3',
      '4',
    ]);
    expect(gw2Row[col('weight')]).toBe('3');
    expect([gw2Row[col('act')], gw2Row[col('bck')]]).toEqual(['1', '0']);
    expect(gw2Row[col('addr')]).toBe(`127.0.0.1:${gw2.port}`);
    expect(gw2Row[col('scur')]).toBe('3');
    expect(Number(gw2Row[col('lastsess')])).toBeGreaterThanOrEqual(0);
    expect(be[col('status')]).toBe('UP');
    expect(be[col('algo')]).toBe('roundrobin');
    expect([be[col('act')], be[col('bck')], be[col('weight')]]).toEqual(['2', '0', '4']);
    expect(be[col('scur')]).toBe('4');
  });

  it('prints DRAIN and MAINT as HAProxy does, the backend weight dropping with them', async () => {
    await setServerState(started, 'ismg', 'gw1', 'drain');
    await setServerState(started, 'ismg', 'gw2', 'maint');
    try {
      const res = await started.request.get('/api/v1/stats?format=csv');
      const rows = res.text
        .split('\n')
        .slice(1, -1)
        .map((l) => l.split(','));
      const byName = new Map(rows.map((r) => [r[1], r]));
      expect(byName.get('gw1')![col('status')]).toBe('DRAIN');
      expect(byName.get('gw2')![col('status')]).toBe('MAINT');
      expect(byName.get('gw2')![col('check_status')]).toBe(''); // checks pause in MAINT, as in HAProxy
      expect(byName.get('BACKEND')![col('act')]).toBe('0');
      const json = await stats();
      expect(json.backends[0]!.servers.map((s) => [s.adminState, s.health])).toEqual([
        ['drain', 'UP'],
        ['maint', 'UP'],
      ]);
    } finally {
      await setServerState(started, 'ismg', 'gw1', 'ready');
      await setServerState(started, 'ismg', 'gw2', 'ready');
    }
  });

  it('keeps once-a-second history that grows, filtered by ?since', async () => {
    const first = (await started.request.get('/api/v1/stats/history')).body as StatsSample[];
    const grown = await waitFor(
      async () => {
        const res = await started.request.get('/api/v1/stats/history');
        expect(res.status).toBe(200);
        const samples = res.body as StatsSample[];
        return samples.length >= first.length + 2 ? samples : undefined;
      },
      5000,
      'two more samples',
    );
    const times = grown.map((s) => s.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const last = grown.at(-1)!;
    expect(last.frontends.sms).toMatchObject({ scur: 4 });
    expect(Object.keys(last.servers).sort()).toEqual(['ismg/gw1', 'ismg/gw2']);

    const since = grown.at(-2)!.t;
    const recent = (await started.request.get(`/api/v1/stats/history?since=${since}`)).body as StatsSample[];
    expect(recent.length).toBeGreaterThanOrEqual(1);
    expect(recent.every((s) => s.t > since)).toBe(true);
    expect(recent[0]!.t).toBe(last.t);
  });

  it('refuses a malformed ?since or ?format with 400 naming it', async () => {
    const since = await started.request.get('/api/v1/stats/history?since=yesterday');
    expect(since.status).toBe(400);
    expect(since.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(since.body.message).toMatch(/since/);
    const format = await started.request.get('/api/v1/stats?format=xml');
    expect(format.status).toBe(400);
    expect(format.body.message).toMatch(/format/);
  });

  it('lets a viewer read stats and refuses anonymous callers', async () => {
    const viewer = await started.as('viewer');
    expect((await viewer.get('/api/v1/stats')).status).toBe(200);
    expect((await viewer.get('/api/v1/stats?format=csv')).status).toBe(200);
    expect((await viewer.get('/api/v1/stats/history')).status).toBe(200);
    expect((await started.anonymous.get('/api/v1/stats')).status).toBe(401);
  });

  it('serves Prometheus metrics at /metrics to any role, with the live counters', async () => {
    expect((await started.anonymous.get('/metrics')).status).toBe(401);
    const viewer = await started.as('viewer');
    const res = await viewer.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const json = await stats();
    const value = (series: string) => {
      const line = res.text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('haproxy_frontend_sessions_total{proxy="sms"}')).toBe(json.frontends[0]!.stot);
    expect(value('haproxy_frontend_current_sessions{proxy="sms"}')).toBe(4);
    expect(value('haproxy_frontend_status{proxy="sms",state="UP"}')).toBe(1);
    expect(value('haproxy_server_current_sessions{proxy="ismg",server="gw2"}')).toBe(3);
    expect(value('haproxy_server_status{proxy="ismg",server="gw1",state="UP"}')).toBe(1);
    expect(value('haproxy_server_check_status{proxy="ismg",server="gw1",state="L4OK"}')).toBe(1);
    expect(value('haproxy_backend_active_servers{proxy="ismg"}')).toBe(2);
    expect(res.text).toContain('# TYPE haproxy_server_sessions_total counter\n');
  });

  it('documents the stats endpoints in OpenAPI', async () => {
    const res = await started.request.get('/api/docs-json');
    if (res.status !== 200) return expect.fail(`OpenAPI JSON not served: ${res.status}`);
    const paths = res.body.paths as Record<string, unknown>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/stats',
        '/api/v1/stats/stream',
        '/api/v1/stats/history',
        '/api/v1/sessions',
      ]),
    );
    const schemas = res.body.components.schemas;
    expect(schemas.ServerStatsDto.properties).toHaveProperty('adminState');
    expect(schemas.ServerStatsDto.properties).toHaveProperty('health');
    expect(schemas.FrontendStatsDto.properties.status.enum).toEqual(['OPEN', 'STOP', 'FAILED']);
    expect(schemas).toHaveProperty('SampleTotalsDto');
    expect(schemas.SessionResponseDto.properties).toHaveProperty('idleMs');
    const stream = paths['/api/v1/stats/stream'] as {
      get: { responses: Record<string, { content: object }> };
    };
    expect(Object.keys(stream.get.responses['200']!.content)).toEqual(['text/event-stream']);
  });
});
