// The runtime socket's command table: HAProxy 2.6 CLI commands Tether answers, their argument checks with
// HAProxy's own messages, and what each does through the CliTarget (docs/runtime-socket.md).
import type { InitialWeights } from './initial-weights.js';
import type { Snapshot } from '../schema/snapshot.js';
import type { AdminState, RuntimeStats, SessionInfo } from '../runtime/types.js';
import {
  filterShowStat,
  renderBackends,
  renderDrains,
  renderServersState,
  renderSessionDetail,
  renderSessions,
  renderShowErrors,
  renderShowInfo,
  sessionIdOf,
  type ProcessInfo,
} from './cli-formats.js';
import { HELP_LINES, HELP_TAIL, MESSAGES } from './cli-texts.js';

/** What the commands act on: the same services as the REST API, seen as plain calls. */
export interface CliTarget {
  /** The config in effect. */
  snapshot(): Snapshot;
  /** Runtime stats, each draining server with its drain's progress. */
  stats(): Promise<RuntimeStats>;
  /** HAProxy `show stat` CSV, header line included. */
  showStat(): Promise<string>;
  sessions(): Promise<SessionInfo[]>;
  info(): ProcessInfo;
  /** A config change (one revision). */
  setWeight(backend: string, server: string, weight: number): Promise<void>;
  /** The weights servers had before the socket changed them (HAProxy's initial weights). */
  readonly initialWeights: InitialWeights;
  /** Runtime state (no revision). */
  setAdminState(backend: string, server: string, state: AdminState): Promise<void>;
  shutdownSessions(backend: string, server: string): Promise<number>;
  /** false when there is no such live session. */
  killSession(id: string): Promise<boolean>;
  /** A config change of the frontend's `enabled`; false when it already was so. */
  setFrontendEnabled(frontend: string, enabled: boolean): Promise<boolean>;
}

/**
 * One command's answer. `text` is printed as is and then the blank line that ends an answer, except when
 * `unterminated` (HAProxy prints a few errors without it).
 */
export interface CliAnswer {
  text: string;
  unterminated?: boolean;
}

interface Command {
  words: string[];
  run(args: string[], target: CliTarget): Promise<CliAnswer> | CliAnswer;
}

const say = (text: string): CliAnswer => ({ text });
const line = (text: string): CliAnswer => ({ text: `${text}\n` });
const DONE: CliAnswer = { text: '' };

const COMMANDS: Command[] = [
  { words: ['help'], run: (args) => help(args) },
  {
    words: ['show', 'info'],
    run: async (_, t) => say(renderShowInfo(await t.stats(), t.info(), Date.now())),
  },
  {
    words: ['show', 'stat'],
    run: async (args, t) => {
      const format = args.find((a) => a === 'json' || a === 'typed');
      if (format) return line(MESSAGES.statFormat(format));
      const csv = filterShowStat(await t.showStat(), args);
      return csv === undefined ? line(MESSAGES.noSuchProxy) : say(csv);
    },
  },
  {
    words: ['show', 'servers', 'state'],
    run: async (args, t) => {
      const text = renderServersState(await t.stats(), t.snapshot(), args[0]);
      return text === undefined ? line(MESSAGES.cantFindBackend) : say(text);
    },
  },
  {
    // Tether's own: drains in progress (docs/runtime-socket.md); not in HAProxy's help, which stays HAProxy's.
    words: ['show', 'drains'],
    run: async (args, t) => {
      const text = renderDrains(await t.stats(), args[0]);
      return text === undefined ? line(MESSAGES.cantFindBackend) : say(text);
    },
  },
  { words: ['show', 'backend'], run: (_, t) => say(renderBackends(t.snapshot())) },
  { words: ['show', 'errors'], run: () => say(renderShowErrors(Date.now())) },
  { words: ['show', 'sess'], run: (args, t) => showSess(args[0], t) },
  {
    words: ['get', 'weight'],
    run: (args, t) => {
      const found = findServer(args[0], t.snapshot());
      if (typeof found === 'string') return line(found);
      const initial = t.initialWeights.initial(found.backend, found.name, found.weight);
      return line(`${found.weight} (initial ${initial})`);
    },
  },
  { words: ['set', 'weight'], run: (args, t) => setWeight(args[0], args[1], t) },
  { words: ['set', 'server'], run: (args, t) => setServer(args, t) },
  { words: ['enable', 'server'], run: (args, t) => setState(args[0], 'ready', t) },
  { words: ['disable', 'server'], run: (args, t) => setState(args[0], 'maint', t) },
  {
    words: ['shutdown', 'sessions', 'server'],
    run: async (args, t) => {
      const found = findServer(args[0], t.snapshot());
      if (typeof found === 'string') return line(found);
      await t.shutdownSessions(found.backend, found.name);
      return DONE;
    },
  },
  {
    words: ['shutdown', 'session'],
    run: async (args, t) => {
      const id = args[0] === undefined ? undefined : sessionIdOf(args[0]);
      if (id === undefined) return line(MESSAGES.sessionExpected);
      return (await t.killSession(id)) ? DONE : line(MESSAGES.noSuchSession);
    },
  },
  { words: ['enable', 'frontend'], run: (args, t) => setFrontend(args[0], true, t) },
  { words: ['disable', 'frontend'], run: (args, t) => setFrontend(args[0], false, t) },
];

/** The commands a line's words name: the longest match of the table, with the words left as its arguments. */
function lookup(words: string[]): { command: Command; args: string[] } | undefined {
  let best: Command | undefined;
  for (const command of COMMANDS) {
    if (command.words.length > words.length) continue;
    if (!command.words.every((w, i) => w === words[i])) continue;
    if (!best || command.words.length > best.words.length) best = command;
  }
  return best && { command: best, args: words.slice(best.words.length) };
}

/** Runs one command (its words, as split by splitLine). `prompt` and `quit` are the session's business. */
export async function runCommand(words: string[], target: CliTarget): Promise<CliAnswer> {
  const found = lookup(words);
  if (!found) return unknown(words);
  return found.command.run(found.args, target);
}

function help(args: string[]): CliAnswer {
  const matching = args.length === 0 ? [] : HELP_LINES.filter((l) => startsWithWords(l, args));
  const lines = matching.length > 0 ? matching : HELP_LINES;
  return say([MESSAGES.helpHeader, ...lines, ...HELP_TAIL].join('\n') + '\n');
}

function startsWithWords(helpLine: string, words: string[]): boolean {
  const lineWords = helpLine.trim().split(/\s+/);
  return words.every((w, i) => lineWords[i] === w);
}

/** HAProxy's answers to an unknown command: every command for an empty one, the likeliest ones otherwise. */
function unknown(words: string[]): CliAnswer {
  if (words.length === 0) {
    return say([MESSAGES.unknownEmpty, ...HELP_LINES, ...HELP_TAIL].join('\n') + '\n');
  }
  const sameVerb = HELP_LINES.filter((l) => l.trim().split(/\s+/)[0] === words[0]);
  const likely = sameVerb.length > 0 ? sameVerb : closest(words.join(' '));
  return say([MESSAGES.unknownMaybe, ...likely, ...HELP_TAIL].join('\n') + '\n');
}

/** The five help lines sharing the most letter pairs with the text (HAProxy also ranks by similarity). */
function closest(text: string): string[] {
  const pairs = (s: string) => new Set(Array.from(s.slice(0, 64), (_, i) => s.slice(i, i + 2)));
  const wanted = pairs(text.toLowerCase());
  return HELP_LINES.map((l) => {
    const command = l.split(':')[0].trim();
    let score = 0;
    for (const pair of pairs(command)) if (wanted.has(pair)) score++;
    return { l, score };
  })
    .filter((entry) => entry.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, 5)
    .map((entry) => entry.l);
}

interface FoundServer {
  backend: string;
  name: string;
  weight: number;
}

/** A `<backend>/<server>` argument, or HAProxy's message saying what is wrong with it. */
function findServer(arg: string | undefined, snapshot: Snapshot): FoundServer | string {
  const slash = arg?.indexOf('/') ?? -1;
  if (!arg || slash < 0) return MESSAGES.requireServer;
  const backendName = arg.slice(0, slash);
  const serverName = arg.slice(slash + 1);
  const backend = snapshot.backends.find((b) => b.name === backendName);
  if (!backend) return MESSAGES.noSuchBackend;
  const server = backend.servers.find((s) => s.name === serverName);
  if (!server) return MESSAGES.noSuchServer;
  return { backend: backend.name, name: server.name, weight: server.weight };
}

/** HAProxy's server_parse_weight_change_request(): `n` (0..256) or `n%` of the initial weight. */
export function parseWeight(text: string | undefined, initial: number): number | CliAnswer {
  if (!text) return line(MESSAGES.requireWeight);
  const match = /^([-+]?\d+)(.*)$/.exec(text);
  if (!match) return { text: `${MESSAGES.weightGarbage}\n`, unterminated: true };
  const value = Number(match[1]);
  if (match[2] === '%') {
    if (value < 0) return line(MESSAGES.weightRelative);
    return Math.min(256, Math.floor((initial * Math.min(value, 25600)) / 100));
  }
  if (match[2] !== '') return { text: `${MESSAGES.weightTrailing}\n`, unterminated: true };
  if (value < 0 || value > 256) return line(MESSAGES.weightRange);
  return value;
}

async function setWeight(server: string | undefined, weight: string | undefined, t: CliTarget) {
  const found = findServer(server, t.snapshot());
  if (typeof found === 'string') return line(found);
  const initial = t.initialWeights.initial(found.backend, found.name, found.weight);
  const value = parseWeight(weight, initial);
  if (typeof value !== 'number') return value;
  await t.setWeight(found.backend, found.name, value);
  t.initialWeights.changed(found.backend, found.name, initial, value);
  return DONE;
}

async function setState(server: string | undefined, state: AdminState, t: CliTarget) {
  const found = findServer(server, t.snapshot());
  if (typeof found === 'string') return line(found);
  await t.setAdminState(found.backend, found.name, state);
  return DONE;
}

const SET_SERVER_OPTIONS = [
  'addr',
  'agent',
  'agent-addr',
  'agent-port',
  'agent-send',
  'check-addr',
  'check-port',
  'fqdn',
  'health',
  'ssl',
];

async function setServer(args: string[], t: CliTarget): Promise<CliAnswer> {
  const found = findServer(args[0], t.snapshot());
  if (typeof found === 'string') return line(found);
  const [, option, value] = args;
  if (option === 'weight') return setWeight(args[0], value, t);
  if (option === 'state') {
    if (value !== 'ready' && value !== 'drain' && value !== 'maint') return line(MESSAGES.stateExpects);
    return setState(args[0], value, t);
  }
  if (option !== undefined && SET_SERVER_OPTIONS.includes(option)) {
    // HAProxy knows these; Tether keeps addresses, checks and TLS in the config (REST API or console).
    return line(`'set server <srv> ${option}' is not supported by Tether: change the config instead.`);
  }
  return line(MESSAGES.setServerUsage);
}

async function setFrontend(name: string | undefined, enabled: boolean, t: CliTarget) {
  if (!name) return line(MESSAGES.frontendExpected);
  if (!t.snapshot().frontends.some((f) => f.name === name)) return line(MESSAGES.noSuchFrontend);
  const changed = await t.setFrontendEnabled(name, enabled);
  if (!changed) return line(enabled ? MESSAGES.frontendEnabled : MESSAGES.frontendDisabled);
  return DONE;
}

async function showSess(arg: string | undefined, t: CliTarget): Promise<CliAnswer> {
  const sessions = (await t.sessions()).sort((a, b) => a.startedAt - b.startedAt);
  if (arg === 'all') return say(sessions.map((s) => renderSessionDetail(s, t.snapshot())).join(''));
  const id = arg === undefined ? undefined : sessionIdOf(arg);
  if (id === undefined) return say(renderSessions(sessions, Date.now()));
  const session = sessions.find((s) => s.id === id);
  return session ? say(renderSessionDetail(session, t.snapshot())) : line(MESSAGES.sessionNotFound);
}
