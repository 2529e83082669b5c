// The tether_cmpp_* families of GET /metrics (docs/cmpp-inspection.md): CMPP inspection per frontend, per
// server and per SP account, in the Prometheus text format. Accounts get the few series an operator alerts on
// (SUBMITs, results, logins, outstanding), not the histogram: up to 10,001 accounts must stay a readable answer;
// and only for accounts a gateway let in (seenLoggingIn): a client naming accounts makes no series.
import { CMPP_COMMANDS, OVERFLOW_ACCOUNT, rowGatewayLetIn } from '../runtime/cmpp-stats.js';
import type { CmppAccountStats, CmppStats, RuntimeStats } from '../runtime/types.js';

type Labels = Record<string, string>;
interface Item {
  labels: Labels;
  cmpp: CmppStats;
}
type Sample = [Labels, number];

interface Family {
  name: string;
  kind: 'counter' | 'gauge' | 'histogram';
  help: string;
  samples: (c: CmppStats) => Sample[];
  /** Also exported per account. */
  perAccount: boolean;
  /** false: not per server (what no server can count, such as logins Tether refused before choosing one). */
  perServer?: boolean;
}

const FAMILIES: Family[] = [
  {
    name: 'sessions_total',
    kind: 'counter',
    help: 'Inspected sessions started (per account: CONNECTs naming it)',
    samples: (c) => [[{}, c.sessions]],
    perAccount: true,
  },
  {
    name: 'not_cmpp_sessions_total',
    kind: 'counter',
    help: 'Sessions whose bytes were not CMPP, relayed uninspected',
    samples: (c) => [[{}, c.notCmpp]],
    perAccount: false,
  },
  {
    name: 'frames_total',
    kind: 'counter',
    help: 'Frames per direction (up: client to server) and command',
    samples: (c) =>
      CMPP_COMMANDS.flatMap((command): Sample[] => [
        [{ direction: 'up', command }, c.up[command]],
        [{ direction: 'down', command }, c.down[command]],
      ]),
    perAccount: false,
  },
  {
    name: 'submits_total',
    kind: 'counter',
    help: 'SUBMITs sent by the clients',
    samples: (c) => [[{}, c.up.submit]],
    perAccount: true,
  },
  {
    name: 'submit_results_total',
    kind: 'counter',
    help: 'SUBMIT_RESP results: ok (0), throttled (8), other',
    samples: (c) => [
      [{ result: 'ok' }, c.submitResults.ok],
      [{ result: 'throttled' }, c.submitResults.throttled],
      [{ result: 'other' }, c.submitResults.other],
    ],
    perAccount: true,
  },
  {
    name: 'connect_status_total',
    kind: 'counter',
    help: 'CONNECT_RESP statuses by code (0 is a login accepted)',
    samples: (c) => Object.entries(c.connectStatus).map(([status, n]): Sample => [{ status }, n]),
    perAccount: true,
  },
  {
    name: 'outstanding_requests',
    kind: 'gauge',
    help: "Requests awaiting an answer in live sessions: the client's (up) and the server's (down)",
    samples: (c) => [
      [{ direction: 'up' }, c.outstanding.up],
      [{ direction: 'down' }, c.outstanding.down],
    ],
    perAccount: true,
  },
  {
    name: 'refused_logins_total',
    kind: 'counter',
    help: 'CONNECTs Tether answered itself with status 5 (backend.cmpp): at the account cap (cap), over a login rate (rate)',
    samples: (c) => [
      [{ reason: 'cap' }, c.refusedCap ?? 0],
      [{ reason: 'rate' }, c.refusedRate ?? 0],
    ],
    perAccount: true,
    perServer: false,
  },
  {
    name: 'untracked_requests_total',
    kind: 'counter',
    help: 'Requests not matched to answers because a session had 48 distinct ids outstanding one way',
    samples: (c) => [[{}, c.untracked]],
    perAccount: false,
  },
  {
    name: 'ambiguous_messages_total',
    kind: 'counter',
    help: 'Messages (SUBMIT, DELIVER, ...) in flight, unanswered, when their session ended',
    samples: (c) => [[{}, c.ambiguous]],
    perAccount: true,
  },
];

/** SUBMIT -> SUBMIT_RESP latency as a Prometheus histogram (seconds, cumulative buckets). */
function latencyFamily(name: string, items: Item[]): string {
  let out = `# HELP ${name} SUBMIT to SUBMIT_RESP latency\n# TYPE ${name} histogram\n`;
  for (const { labels, cmpp } of items) {
    const { boundsMs, counts, sumMs } = cmpp.latency;
    let cumulative = 0;
    counts.forEach((n, i) => {
      cumulative += n;
      const le = i < boundsMs.length ? String(boundsMs[i] / 1000) : '+Inf';
      out += `${name}_bucket${labelText({ ...labels, le })} ${cumulative}\n`;
    });
    out += `${name}_sum${labelText(labels)} ${sumMs / 1000}\n`;
    out += `${name}_count${labelText(labels)} ${cumulative}\n`;
  }
  return out;
}

export function renderCmppMetrics(stats: RuntimeStats): string {
  const scopes: Array<{ scope: string; items: Item[]; accounts: boolean }> = [
    {
      scope: 'frontend',
      items: stats.frontends.flatMap((f) => (f.cmpp ? [{ labels: { proxy: f.name }, cmpp: f.cmpp }] : [])),
      accounts: false,
    },
    {
      scope: 'server',
      items: stats.backends.flatMap((b) =>
        b.servers.flatMap((s) =>
          s.cmpp ? [{ labels: { proxy: b.name, server: s.name }, cmpp: s.cmpp }] : [],
        ),
      ),
      accounts: false,
    },
    {
      scope: 'account',
      items: (stats.cmppAccounts ?? [])
        .filter(seenLoggingIn)
        .map((a) => ({ labels: { account: a.account }, cmpp: a })),
      accounts: true,
    },
  ];
  let out = '';
  for (const { scope, items, accounts } of scopes) {
    if (items.length === 0) continue;
    for (const family of FAMILIES) {
      if (accounts && !family.perAccount) continue;
      if (scope === 'server' && family.perServer === false) continue;
      const name = `tether_cmpp_${scope}_${family.name}`;
      out += `# HELP ${name} ${family.help}\n# TYPE ${name} ${family.kind}\n`;
      for (const { labels, cmpp } of items)
        for (const [extra, value] of family.samples(cmpp))
          out += `${name}${labelText({ ...labels, ...extra })} ${value}\n`;
    }
    if (!accounts) out += latencyFamily(`tether_cmpp_${scope}_submit_latency_seconds`, items);
  }
  return out;
}

/**
 * The accounts with series of their own: those a gateway let in (rowGatewayLetIn), and the overflow row. Any client
 * names any account in its CONNECTs, and a full table gives the rows of names no gateway let in to newer ones
 * (cmpp-stats.ts): as series, a flood of names would be a new series per name for the scraper to keep. Their logins
 * still count per frontend and server, and GET /stats lists them.
 */
function seenLoggingIn(a: CmppAccountStats): boolean {
  return a.account === OVERFLOW_ACCOUNT || rowGatewayLetIn(a);
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return `{${pairs.join(',')}}`;
}
