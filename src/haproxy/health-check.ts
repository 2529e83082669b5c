// The health-check part of a haproxy.cfg: `option tcp-check` / `option redis-check` and the `tcp-check` rules of
// a backend, read into ProxyState.tcpCheck, then turned into Tether's check.steps (docs/health-checks.md). A simple
// sequence (connect, send, send-binary, expect string|binary) is run as written; a rule Tether cannot run makes
// the whole sequence unusable (said in a warning): the check then only connects, never half of what was asked.
import { isCheckText } from '../schema/check.js';
import { LIMITS, RULES } from '../schema/fields.js';
import type { CheckStep } from '../schema/snapshot.js';
import type { Statement } from './lines.js';
import type { CheckOption, ProxyState, Sourced } from './proxy.js';
import { parseInteger } from './values.js';

/** HAProxy 2.6's `option redis-check`: a PING in Redis's protocol, +PONG expected (its own tcp-check rules). */
export const REDIS_CHECK_STEPS: CheckStep[] = [
  { send: '*1\r\n$4\r\nPING\r\n' },
  { expect: { string: '+PONG\r\n' } },
];

/** Check options HAProxy runs as a protocol of its own, which Tether runs as a TCP connect. */
export const TCP_CHECK_LIKE = new Set([
  'httpchk',
  'mysql-check',
  'pgsql-check',
  'ldap-check',
  'ssl-hello-chk',
  'smtpchk',
  'spop-check',
  'external-check',
]);

/** `option tcp-check`, `option redis-check` and the protocol checks: the last one of a section wins, as in HAProxy. */
export function checkOption(proxy: ProxyState, at: Statement, name: string, warn: (m: string) => void): void {
  const option: CheckOption = name === 'tcp-check' || name === 'redis-check' ? name : 'other';
  proxy.checkOption = { value: option, at };
  if (option === 'other')
    warn(`\`option ${name}\` runs as a TCP check in Tether (a connection that opens is up)`);
}

/** One `tcp-check` rule of a backend or listen section. */
export function tcpCheckRule(
  proxy: ProxyState,
  at: Statement,
  args: string[],
  warn: (m: string) => void,
): void {
  if (proxy.kind === 'defaults' || proxy.kind === 'frontend')
    return warn(`\`tcp-check\` in a ${proxy.kind} section is not imported: write the rules in each backend`);
  const rules = proxy.tcpCheck;
  rules.lines.push(at);
  if (rules.unusable)
    return warn(
      `not run: the backend's tcp-check sequence is not imported (line ${rules.unusable.at.line}), its check only opens a connection`,
    );
  const unusable = (why: string) => {
    rules.unusable ??= { value: why, at };
    warn(`${why}: the backend's check only opens a connection`);
  };
  const [action, ...rest] = args;
  switch (action) {
    case 'connect': {
      rules.connects++;
      if (rules.connects > 1 || rules.steps.length > 0)
        return unusable(
          'a `tcp-check connect` after other rules (a sequence of several connections) is not built',
        );
      for (let i = 0; i < rest.length; i++) {
        const port = rest[i] === 'port' ? parseInteger(rest[i + 1]) : undefined;
        if (port !== undefined && port >= 1 && port <= 65535) {
          rules.connectPort = port;
          i++;
        } else return unusable(`\`tcp-check connect\` option \`${rest.slice(i).join(' ')}\` is not built`);
      }
      return;
    }
    case 'send':
    case 'send-binary': {
      if (rest.length !== 1) return unusable(`\`tcp-check ${action}\` takes one argument here (no comment)`);
      const [data] = rest;
      if (action === 'send') return addStep(rules.steps, textStep('send', data), unusable);
      return addStep(rules.steps, hexStep('sendBinary', data), unusable);
    }
    case 'expect':
      return expectRule(rules.steps, rest, unusable);
    case 'comment':
      if (rest.length === 1)
        return warn('`tcp-check comment` is not imported (Tether names steps by number)');
      return unusable('`tcp-check comment` takes one argument');
    default:
      return unusable(`\`tcp-check ${action ?? ''}\` is not built (only connect, send, send-binary, expect)`);
  }
}

type Made = CheckStep | string;

function addStep(steps: CheckStep[], made: Made, unusable: (why: string) => void): void {
  if (typeof made === 'string') return unusable(made);
  if (steps.length >= LIMITS.checkSteps)
    return unusable(`more than ${LIMITS.checkSteps} \`tcp-check\` steps (docs/config-limits.md)`);
  steps.push(made);
}

function expectRule(steps: CheckStep[], args: string[], unusable: (why: string) => void): void {
  const negated = args[0] === '!';
  const [kind, pattern, ...extra] = negated ? args.slice(1) : args;
  if (negated || kind?.startsWith('!'))
    return unusable('`tcp-check expect !…` (a negated match) is not built');
  if (kind === 'rstring' || kind === 'rbinary')
    return unusable(`\`tcp-check expect ${kind}\` (a regular expression) is not built: use string or binary`);
  if ((kind !== 'string' && kind !== 'binary') || pattern === undefined || extra.length > 0)
    return unusable(
      `\`tcp-check expect ${args.join(' ')}\` is not built: only \`expect string <text>\` and \`expect binary <hex>\``,
    );
  const made = kind === 'string' ? textStep('string', pattern) : hexStep('binary', pattern);
  if (typeof made === 'string') return unusable(made);
  const step: CheckStep =
    'send' in made
      ? { expect: { string: made.send } }
      : { expect: { binary: (made as { sendBinary: string }).sendBinary } };
  addStep(steps, step, unusable);
}

/** A text payload: ASCII without NUL (a `\xHH` of 0x80 or more is a raw byte the text cannot hold), at most 1024 bytes. */
function textStep(what: 'send' | 'string', data: string): Made {
  if (!isCheckText(data))
    return `the \`${what}\` text holds NUL or non-ASCII bytes: write it as ${what === 'send' ? 'send-binary' : 'expect binary'} <hex>`;
  const rule = what === 'send' ? RULES.checkStep.send : RULES.checkStep.expectString;
  if (data.length < rule.min || data.length > rule.max)
    return `the \`${what}\` text must be ${rule.min} to ${rule.max} bytes, got ${data.length}`;
  return { send: data };
}

function hexStep(what: 'sendBinary' | 'binary', data: string): Made {
  const rule = what === 'sendBinary' ? RULES.checkStep.sendBinary : RULES.checkStep.expectBinary;
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(data) || data.length / 2 > rule.max)
    return `the ${what === 'sendBinary' ? '`send-binary`' : '`expect binary`'} data must be hex digits, two per byte, at most ${rule.max} bytes`;
  return { sendBinary: data.toLowerCase() };
}

/**
 * The steps a backend's checks run: its own tcp-check rules under `option tcp-check`, HAProxy's Redis PING under
 * `option redis-check`, none otherwise (a connect). `warn` names rules that are read but not run.
 */
export function stepsOf(
  proxy: ProxyState,
  warn: (at: Statement | undefined, message: string) => void,
): { steps?: CheckStep[]; connectPort?: number } {
  const rules = proxy.tcpCheck;
  const option: Sourced<CheckOption> | undefined = proxy.checkOption;
  if (option?.value === 'redis-check') {
    for (const at of rules.lines)
      warn(at, 'the `tcp-check` rule is not run: `option redis-check` replaces the rules, as in HAProxy');
    return { steps: REDIS_CHECK_STEPS.map((s) => structuredClone(s)) };
  }
  if (option?.value !== 'tcp-check') {
    for (const at of rules.lines)
      warn(at, '`tcp-check` rules without `option tcp-check` are not run (HAProxy ignores them too)');
    return {};
  }
  if (rules.unusable) return {};
  return { steps: rules.steps.length > 0 ? rules.steps : undefined, connectPort: rules.connectPort };
}
