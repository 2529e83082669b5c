// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, idle and GC included.
// `npx tsx test/bench/profile-top.ts FILE [N] [--timeline] [--window FROM,TO]`: --timeline prints how busy the
// process was per 250 ms (to find a storm's burst); --window keeps the samples from FROM to TO seconds after the
// profile's start.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args[0];
if (!file) throw new Error('usage: profile-top.ts FILE [N] [--timeline] [--window FROM,TO]');
const top = Number(args.find((a, i) => i > 0 && /^\d+$/.test(a)) ?? 25);
const windowArg = args.includes('--window')
  ? args[args.indexOf('--window') + 1].split(',').map(Number)
  : null;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

const self = new Map<string, number>();
const buckets: Array<{ busy: number; all: number }> = [];
let total = 0;
let at = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  const frame = byId.get(id)!.callFrame;
  const idle = frame.functionName === '(idle)';
  const bucket = (buckets[Math.floor(at / 250_000)] ??= { busy: 0, all: 0 });
  bucket.all += dt;
  if (!idle) bucket.busy += dt;
  if (windowArg && (at < windowArg[0] * 1e6 || at > windowArg[1] * 1e6)) return;
  total += dt;
  const where = frame.url
    ? `${frame.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`
    : '';
  const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  self.set(key, (self.get(key) ?? 0) + dt);
});

if (args.includes('--timeline')) {
  console.log('busy per 250 ms (s after start: %):');
  console.log(
    buckets
      .map((b, i) => `${(i / 4).toFixed(2)}:${b && b.all > 0 ? Math.round((100 * b.busy) / b.all) : 0}`)
      .join(' '),
  );
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s sampled${windowArg ? ` (window ${windowArg.join('–')} s)` : ''}`,
);
for (const [key, us] of rows)
  console.log(
    `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`,
  );
