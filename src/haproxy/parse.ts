// haproxy.cfg text → a Tether snapshot and the warnings of everything it could not carry over
// (docs/haproxy-import.md). Plain code: no Nest, no I/O. Sections are read in order, each proxy
// starting from the `defaults` section before it; assemble.ts then builds the snapshot.
import { assemble, type DisabledServer } from './assemble.js';
import { applyDirective, type Reporter } from './directives.js';
import { parseLogLine } from './log-target.js';
import { boundMessage, splitStatements, strayNul, type Statement } from './lines.js';
import { newProxy, type ProxyState } from './proxy.js';
import { resolversLine } from './resolution.js';
import { parseInteger } from './values.js';
import type { LogTarget, Snapshot } from '../schema/snapshot.js';

export interface ImportWarning {
  /** 1-based line of the statement (0: about the file as a whole). */
  line: number;
  /** The statement as written (comments left out). */
  text: string;
  message: string;
}

export interface ImportOptions {
  /** Refuse what would otherwise be left out or changed with a warning: `mode http` sections, several binds, renamed names. */
  strict?: boolean;
}

export interface ImportResult {
  snapshot: Snapshot;
  warnings: ImportWarning[];
  /** Servers written `disabled`: in maint after the import (docs/haproxy-import.md, "Disabled servers"). */
  disabled: DisabledServer[];
}

/** Most warnings kept: a file of a million unknown lines is not worth a million warnings. */
export const MAX_WARNINGS = 1000;

/** Why a file is refused: `not-built` (strict mode: something Tether would leave out) or `invalid`. */
export interface ImportProblem extends ImportWarning {
  kind: 'not-built' | 'invalid';
}

/** The file cannot be imported: `problems` says why (each with its line), `warnings` what else was found. */
export class HaproxyImportError extends Error {
  constructor(
    readonly problems: ImportProblem[],
    readonly warnings: ImportWarning[],
  ) {
    super(problems[0]?.message ?? 'the file cannot be imported');
    this.name = 'HaproxyImportError';
  }
}

export class Findings implements Reporter {
  readonly warnings: ImportWarning[] = [];
  readonly problems: ImportProblem[] = [];
  private dropped = 0;

  constructor(readonly strict: boolean) {}

  warn(at: Statement | undefined, message: string): void {
    if (this.warnings.length >= MAX_WARNINGS) {
      this.dropped++;
      return;
    }
    this.warnings.push({ line: at?.line ?? 0, text: at?.text ?? '', message: boundMessage(message) });
  }

  strictly(at: Statement | undefined, message: string): void {
    if (this.strict) this.refuse(at, `${message}; refused in strict mode`, 'not-built');
    else this.warn(at, message);
  }

  refuse(at: Statement | undefined, message: string, kind: ImportProblem['kind'] = 'invalid'): void {
    if (this.problems.length < MAX_WARNINGS)
      this.problems.push({ kind, line: at?.line ?? 0, text: at?.text ?? '', message: boundMessage(message) });
  }

  /** The list as handed out, with a last entry counting what did not fit. */
  finalWarnings(): ImportWarning[] {
    if (this.dropped === 0) return this.warnings;
    return [...this.warnings, { line: 0, text: '', message: `${this.dropped} more warnings not listed` }];
  }
}

export interface GlobalSettings {
  maxconn?: number;
  /** The first `log` line Tether can send to, and where it was. */
  log?: { value: LogTarget; at: Statement };
}

const PROXY_KEYWORDS = new Set(['defaults', 'frontend', 'backend', 'listen']);
const OTHER_SECTIONS = new Set([
  'userlist',
  'peers',
  'mailers',
  'program',
  'cache',
  'ring',
  'http-errors',
  'crt-store',
  'log-forward',
  'fcgi-app',
  'dynamic-update',
  'traces',
  'acme',
  'namespace_list',
]);

export function parseHaproxyConfig(text: string, options: ImportOptions = {}): ImportResult {
  const findings = new Findings(options.strict === true);
  const nul = strayNul(text);
  if (nul) {
    // As HAProxy does: a NUL byte means a binary or truncated file, not a config to guess at.
    findings.refuse(
      { line: nul.line, text: nul.before, words: [], envRefs: [] },
      `stray NUL character at position ${nul.position}: not a text file (HAProxy refuses it too)`,
    );
    throw new HaproxyImportError(findings.problems, []);
  }
  const proxies: ProxyState[] = [];
  const global: GlobalSettings = {};
  let section: 'global' | 'resolvers' | 'other' | 'none' | ProxyState = 'none';
  let defaults: ProxyState | undefined;

  for (const at of splitStatements(text)) {
    if (at.unmatchedQuoteAt !== undefined) {
      // As HAProxy does: where a word ends is a guess, and the guess could be a different config.
      findings.refuse(at, `unmatched quote at position ${at.unmatchedQuoteAt} (HAProxy refuses it too)`);
      continue;
    }
    if (at.envRefs.length > 0) {
      findings.warn(
        at,
        `\${${at.envRefs[0]}} is an environment variable HAProxy expands at start: the import cannot, the text is used as written`,
      );
    }
    const keyword = at.words[0];
    // As in HAProxy, a section keyword starts a section however it is indented.
    if (keyword === 'global') {
      section = 'global';
      if (at.words.length > 1) findings.warn(at, 'words after `global` are ignored');
      continue;
    }
    if (PROXY_KEYWORDS.has(keyword)) {
      const proxy = startProxy(at, defaults, findings);
      if (!proxy) {
        section = 'other';
        continue;
      }
      if (proxy.kind === 'defaults') defaults = proxy;
      else proxies.push(proxy);
      section = proxy;
      continue;
    }
    if (keyword === 'resolvers') {
      section = 'resolvers';
      continue;
    }
    if (OTHER_SECTIONS.has(keyword)) {
      section = 'other';
      findings.warn(at, `the \`${keyword}\` section is not imported (with all its lines)`);
      continue;
    }
    if (section === 'other') continue;
    if (section === 'resolvers') {
      const unlike = resolversLine(at.words);
      if (unlike) findings.warn(at, unlike);
      continue;
    }
    if (section === 'none') {
      findings.warn(at, 'outside any section: ignored');
      continue;
    }
    if (section === 'global') {
      globalDirective(global, at, findings);
      continue;
    }
    applyDirective(section, at, findings);
  }

  const disabled: DisabledServer[] = [];
  const snapshot = assemble(proxies, global, findings, disabled);
  if (findings.problems.length > 0) throw new HaproxyImportError(findings.problems, findings.finalWarnings());
  return { snapshot, warnings: findings.finalWarnings(), disabled };
}

function startProxy(
  at: Statement,
  defaults: ProxyState | undefined,
  findings: Findings,
): ProxyState | undefined {
  const [keyword, name, ...rest] = at.words;
  const kind = keyword as ProxyState['kind'];
  if (kind === 'defaults') {
    // Each `defaults` section starts again from HAProxy's own defaults: nothing carries over.
    if (rest.length > 0)
      findings.warn(
        at,
        `\`${rest.join(' ')}\` after \`defaults\` is not imported (named defaults are read in order)`,
      );
    return newProxy('defaults', name ?? '', at);
  }
  if (name === undefined) {
    findings.warn(at, `\`${keyword}\` needs a name: the section is left out`);
    return undefined;
  }
  const proxy = newProxy(kind, name, at, defaults);
  if (rest.length > 0) {
    if (kind === 'listen' && rest.length === 1 && !rest[0].startsWith('from')) {
      // `listen NAME addr:port`: the old one-line form of a bind.
      applyDirective(proxy, { ...at, words: ['bind', rest[0]] }, findings);
    } else if (rest[0] === 'from')
      findings.warn(at, '`from <defaults>` is not imported: the section uses the last `defaults` before it');
    else findings.warn(at, `\`${rest.join(' ')}\` after the section name is not imported`);
  }
  return proxy;
}

function globalDirective(global: GlobalSettings, at: Statement, findings: Findings): void {
  const [keyword, ...args] = at.words;
  if (keyword === 'maxconn') {
    const n = parseInteger(args[0]);
    if (n === undefined || n < 1 || n > 1_000_000)
      return findings.warn(at, '`maxconn` must be a number from 1 to 1000000: ignored');
    global.maxconn = n;
    return;
  }
  if (keyword === 'stats' && args[0] === 'socket') {
    const level = args.indexOf('level') >= 0 ? args[args.indexOf('level') + 1] : 'user';
    return findings.warn(
      at,
      `stats socket ${args[1] ?? ''} (level ${level}) noted but not imported: Tether's runtime socket is set by TETHER_SOCKET`,
    );
  }
  if (keyword === 'log') return globalLog(global, at, args, findings);
  if (
    keyword === 'daemon' ||
    keyword === 'user' ||
    keyword === 'group' ||
    keyword === 'chroot' ||
    keyword === 'pidfile' ||
    keyword === 'nbthread' ||
    keyword === 'nbproc' ||
    keyword === 'uid' ||
    keyword === 'gid'
  ) {
    return findings.warn(
      at,
      `\`${keyword}\` is not imported: Tether's process is run by its service manager`,
    );
  }
  findings.warn(at, `global \`${keyword}\` is not imported`);
}

/** HAProxy sends to up to two `log` targets; Tether to one: the first it can send to. */
function globalLog(global: GlobalSettings, at: Statement, args: string[], findings: Findings): void {
  const { target, warnings } = parseLogLine(args);
  for (const warning of warnings) findings.warn(at, warning);
  if (!target) return;
  if (global.log)
    return findings.warn(
      at,
      `Tether sends session logs to one syslog target: the first \`log\` line (line ${global.log.at.line}) is imported, this one is not`,
    );
  global.log = { value: target, at };
}
