// The cost of CMPP inspection end to end, in counts that don't depend on what else the machine is doing
// (issue 11 point 7, docs/cmpp-inspection.md "Cost"): a fixed number of SUBMIT round trips through the real relay
// (Tether's runtime alone in its process, inspect-e2e-proxy.ts), with `inspect: none` and `inspect: cmpp`, the
// proxy run under a counting tool:
//   callgrind  `valgrind --tool=callgrind node --single-threaded`: instructions of the whole proxy process
//   strace     `strace -f -c`: syscalls by name
//   none       plain node (time only; for `--cpu-prof` or `--trace-gc` through E2E_NODE_FLAGS)
// Each mode runs at two lengths (E2E_ROUNDS, e.g. "100,300") and the difference is divided by the messages between
// them, so start-up, self-tests, the first connections and the exit cancel out. Before either, E2E_WARMUP rounds
// (callgrind 400, else 2000) on other connections let V8 compile the hot path (its compiler is no per-message cost).
// The load is in lockstep, so every read carries the same number of frames whatever the proxy's speed:
// E2E_CONNECTIONS connections (20), each writes E2E_PER_WRITE SUBMITs (16) in one write and waits for all their
// SUBMIT_RESPs (the backend answers a read's frames with one write) before the next write.
// Run: npx tsx test/bench/inspect-e2e.ts [callgrind|strace|none]. Knobs: E2E_MODES (none,cmpp), E2E_NODE_FLAGS
// (extra node flags for the proxy, space-separated; `--trace-gc` counts collections per million messages),
// E2E_KEEP=1 keeps the tool's output files.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { RUNTIME_NODE_FLAGS } from '../../src/runtime/node-flags.js';
import { freePort } from '../helpers/net.js';
import { repoRoot } from './children.js';
import {
  HEADER_LENGTH,
  SUBMIT,
  SUBMIT_LENGTH,
  SUBMIT_RESP,
  SUBMIT_RESP_LENGTH,
  submitTemplate,
} from './cmpp.js';

type Tool = 'callgrind' | 'strace' | 'none';
const tool = (process.argv[2] ?? 'callgrind') as Tool;
if (!['callgrind', 'strace', 'none'].includes(tool))
  throw new Error(`tool: callgrind, strace or none, got ${tool}`);
const MODES = (process.env.E2E_MODES ?? 'none,cmpp').split(',');
const CONNECTIONS = Number(process.env.E2E_CONNECTIONS) || 20;
const PER_WRITE = Number(process.env.E2E_PER_WRITE) || 16;
const ROUNDS = (process.env.E2E_ROUNDS ?? (tool === 'callgrind' ? '100,300' : '1000,3000'))
  .split(',')
  .map(Number);
/** Rounds per connection before the measured ones, so V8 has compiled the relay before either length starts. */
const WARMUP = Number(process.env.E2E_WARMUP ?? (tool === 'callgrind' ? 400 : 2000));
const EXTRA_FLAGS = (process.env.E2E_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
const SOURCES = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
const PROXY_TIMEOUT_MS = 600_000;
const START_ATTEMPTS = 6;

/** Two CMPP-like backends (as backend-server.ts): each read's SUBMITs answered by one write of SUBMIT_RESPs. */
async function startBackends(): Promise<{ ports: number[]; close: () => void }> {
  const servers: net.Server[] = [];
  for (let i = 0; i < 2; i++) {
    const server = net.createServer({ noDelay: true }, (socket) => {
      let pending: Buffer | null = null;
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        const input: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
        const out = Buffer.alloc(Math.ceil(input.length / HEADER_LENGTH) * SUBMIT_RESP_LENGTH);
        let used = 0;
        let at = 0;
        while (input.length - at >= HEADER_LENGTH) {
          const length = input.readUInt32BE(at);
          if (input.length - at < length) break;
          if (input.readUInt32BE(at + 4) === SUBMIT) {
            out.writeUInt32BE(SUBMIT_RESP_LENGTH, used);
            out.writeUInt32BE(SUBMIT_RESP, used + 4);
            out.writeUInt32BE(input.readUInt32BE(at + 8), used + 8);
            used += SUBMIT_RESP_LENGTH;
          }
          at += length;
        }
        pending = at < input.length ? Buffer.from(input.subarray(at)) : null;
        if (used > 0) socket.write(out.subarray(0, used));
      });
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    servers.push(server);
  }
  return {
    ports: servers.map((s) => (s.address() as AddressInfo).port),
    close: () => servers.forEach((s) => s.close()),
  };
}

/** One connection: `rounds` lockstep windows of PER_WRITE SUBMITs; resolves with the answers it checked. */
function drive(port: number, source: string, rounds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const template = submitTemplate();
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: source, noDelay: true });
    let seq = 1;
    let expect = 1;
    let waiting = 0;
    let done = 0;
    let pending: Buffer | null = null;
    const send = () => {
      const batch = Buffer.allocUnsafe(PER_WRITE * SUBMIT_LENGTH);
      for (let i = 0; i < PER_WRITE; i++) {
        template.copy(batch, i * SUBMIT_LENGTH);
        batch.writeUInt32BE(seq++, i * SUBMIT_LENGTH + 8);
      }
      waiting = PER_WRITE;
      socket.write(batch);
    };
    socket.once('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      const input: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      while (input.length - at >= HEADER_LENGTH) {
        const length = input.readUInt32BE(at);
        if (input.length - at < length) break;
        if (input.readUInt32BE(at + 4) !== SUBMIT_RESP || input.readUInt32BE(at + 8) !== expect++)
          return reject(new Error('unexpected answer'));
        waiting--;
        done++;
        at += length;
      }
      pending = at < input.length ? Buffer.from(input.subarray(at)) : null;
      if (waiting > 0) return;
      if (done < rounds * PER_WRITE) send();
      else {
        socket.end();
        resolve(done);
      }
    });
  });
}

interface RunResult {
  mode: string;
  rounds: number;
  messages: number;
  seconds: number;
  instructions: number | null;
  syscalls: Record<string, number> | null;
  counted: { submits: number; submitResps: number; latencySamples: number } | null;
  paths: unknown;
  stderr: string;
  /** With `--trace-gc` in E2E_NODE_FLAGS: the collections the proxy reported, by kind. */
  gc: GcCounts;
}

interface GcCounts {
  scavenges: number;
  markCompacts: number;
}

/** The proxy's next JSON line; `--trace-gc` lines before it are counted. null: the proxy's output ended. */
async function nextReport(lines: AsyncIterator<string>, gc: GcCounts): Promise<string | null> {
  for (;;) {
    const line = await lines.next();
    if (line.done) return null;
    if (line.value.startsWith('{')) return line.value;
    if (line.value.includes('Scavenge')) gc.scavenges++;
    else if (line.value.includes('Mark-Compact')) gc.markCompacts++;
  }
}

/** A valgrind'd proxy may miss a self-test's deadline and take the public paths: start it again, a few times. */
async function runOnce(bundle: string, backendPorts: number[], mode: string, rounds: number, dir: string) {
  for (let attempt = 1; ; attempt++) {
    const result = await runAttempt(bundle, backendPorts, mode, rounds, dir, attempt < START_ATTEMPTS);
    if (result !== null) return result;
    console.log(`  (${mode} rounds ${rounds}: a self-test missed its deadline, starting the proxy again)`);
  }
}

async function runAttempt(
  bundle: string,
  backendPorts: number[],
  mode: string,
  rounds: number,
  dir: string,
  retry: boolean,
): Promise<RunResult | null> {
  const port = await freePort();
  const out = join(dir, `${tool}-${mode}-${rounds}.out`);
  const node = [process.execPath, ...RUNTIME_NODE_FLAGS, ...EXTRA_FLAGS];
  const command =
    tool === 'callgrind'
      ? [
          'valgrind',
          '--tool=callgrind',
          `--callgrind-out-file=${out}`,
          node[0],
          '--single-threaded',
          ...node.slice(1),
        ]
      : tool === 'strace'
        ? ['strace', '-f', '-c', '-o', out, ...node]
        : node;
  const child = spawn(command[0], [...command.slice(1), bundle], {
    env: {
      ...process.env,
      E2E_PREWARM: tool === 'callgrind' ? '200' : '0',
      E2E_INSPECT: mode,
      E2E_PORT: String(port),
      E2E_BACKEND_PORTS: backendPorts.join(','),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  let stderr = '';
  const gc: GcCounts = { scavenges: 0, markCompacts: 0 };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killer = setTimeout(() => child.kill('SIGKILL'), PROXY_TIMEOUT_MS);
  try {
    const first = await nextReport(lines, gc);
    if (first === null) throw new Error(`proxy exited before it listened: ${stderr}`);
    const ready = JSON.parse(first) as { paths: unknown; pid: number };
    if (retry && !productionPaths(ready.paths)) return null;
    const drives = (n: number) =>
      Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => drive(port, SOURCES[i % SOURCES.length], n)));
    if (WARMUP > 0) await drives(WARMUP);
    const t0 = performance.now();
    const answered = await drives(rounds);
    const seconds = (performance.now() - t0) / 1000;
    // Let the sessions close before the proxy is stopped, so both lengths end the same way.
    await new Promise((r) => setTimeout(r, tool === 'callgrind' ? 3000 : 300));
    // To the proxy itself: strace, signalled, would detach and leave it running.
    process.kill(ready.pid, 'SIGTERM');
    const last = await nextReport(lines, gc);
    await exited;
    const report = last === null ? null : (JSON.parse(last) as { counted: RunResult['counted'] });
    const result: RunResult = {
      mode,
      rounds,
      messages: answered.reduce((a, b) => a + b, 0),
      seconds,
      instructions: tool === 'callgrind' ? callgrindTotal(out) : null,
      syscalls: tool === 'strace' ? straceCounts(out) : null,
      counted: report?.counted ?? null,
      gc: { ...gc },
      paths: ready.paths,
      stderr,
    };
    return result;
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function productionPaths(paths: unknown): boolean {
  const p = paths as { accept?: string; pause?: string; write?: string };
  return p.accept === 'onread' && p.write === 'handle' && p.pause === 'readstop';
}

function callgrindTotal(file: string): number {
  const text = readFileSync(file, 'utf8');
  const m = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!m) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

function straceCounts(file: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    // % time  seconds  usecs/call  calls  [errors]  syscall
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?([a-z_0-9]+)\s*$/.exec(line);
    if (m && m[2] !== 'total') counts[m[2]] = Number(m[1]);
  }
  return counts;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-inspect-e2e-'));
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(repoRoot, 'test', 'bench', 'inspect-e2e-proxy.ts')],
    outfile: join(dir, 'proxy.mjs'),
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // Resolve the externals (pino and the like) from the repository's node_modules.
    nodePaths: [join(repoRoot, 'node_modules')],
  });
  const bundle = join(repoRoot, 'test', 'artifacts', `.inspect-e2e-${process.pid}.mjs`);
  rmSync(bundle, { force: true });
  const { copyFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(repoRoot, 'test', 'artifacts'), { recursive: true });
  copyFileSync(join(dir, 'proxy.mjs'), bundle);
  const backends = await startBackends();
  const results: RunResult[] = [];
  try {
    console.log(
      `inspect e2e (${tool}): ${CONNECTIONS} connections × ${PER_WRITE} SUBMITs per write, lockstep, rounds ${ROUNDS.join(' and ')}`,
    );
    for (const rounds of ROUNDS)
      for (const mode of MODES) {
        const r = await runOnce(bundle, backends.ports, mode, rounds, dir);
        results.push(r);
        console.log(
          `  ${mode.padEnd(4)} rounds ${String(rounds).padStart(5)}: ${r.messages} messages in ${r.seconds.toFixed(1)} s` +
            (r.instructions !== null ? `, ${r.instructions} instructions` : '') +
            (r.counted ? `, counted ${JSON.stringify(r.counted)}` : ''),
        );
        if (r.messages !== CONNECTIONS * PER_WRITE * rounds) console.log(`  !! stderr: ${r.stderr}`);
        // A self-test that failed (valgrind is slow; a busy machine slower) puts the proxy on the public paths:
        // that run measured another relay than production's.
        if (!productionPaths(r.paths))
          console.log(`  !! not the production paths: ${JSON.stringify(r.paths)}`);
      }
    console.log(`  paths: ${JSON.stringify(results[0]?.paths)}`);
    const [short, long] = ROUNDS;
    for (const mode of MODES) {
      const a = results.find((r) => r.mode === mode && r.rounds === short)!;
      const b = results.find((r) => r.mode === mode && r.rounds === long)!;
      const messages = b.messages - a.messages;
      if (a.instructions !== null && b.instructions !== null)
        console.log(
          `${mode}: ${((b.instructions - a.instructions) / messages).toFixed(0)} instructions per SUBMIT + SUBMIT_RESP`,
        );
      if (b.gc.scavenges + b.gc.markCompacts > 0)
        console.log(
          `${mode}: per million messages ${(((b.gc.scavenges - a.gc.scavenges) * 1e6) / messages).toFixed(1)} scavenges, ` +
            `${(((b.gc.markCompacts - a.gc.markCompacts) * 1e6) / messages).toFixed(1)} mark-compacts`,
        );
      if (a.syscalls && b.syscalls) {
        const names = [...new Set([...Object.keys(a.syscalls), ...Object.keys(b.syscalls)])];
        const per = names
          .map((n) => [n, ((b.syscalls![n] ?? 0) - (a.syscalls![n] ?? 0)) / messages] as const)
          .filter(([, v]) => Math.abs(v) >= 0.001)
          .sort((x, y) => y[1] - x[1]);
        console.log(
          `${mode}: syscalls per message ${per.map(([n, v]) => `${n} ${v.toFixed(3)}`).join(', ')}`,
        );
      }
    }
    if (MODES.length === 2) {
      const per = (mode: string) => {
        const a = results.find((r) => r.mode === mode && r.rounds === short)!;
        const b = results.find((r) => r.mode === mode && r.rounds === long)!;
        return a.instructions === null || b.instructions === null
          ? null
          : (b.instructions - a.instructions) / (b.messages - a.messages);
      };
      const none = per(MODES[0]);
      const cmpp = per(MODES[1]);
      if (none !== null && cmpp !== null)
        console.log(
          `${MODES[1]} − ${MODES[0]}: ${(cmpp - none).toFixed(0)} instructions per message (${MODES[1]} ÷ ${MODES[0]} ${(cmpp / none).toFixed(3)})`,
        );
    }
  } finally {
    backends.close();
    rmSync(bundle, { force: true });
    if (process.env.E2E_KEEP === '1') console.log(`  tool output kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
