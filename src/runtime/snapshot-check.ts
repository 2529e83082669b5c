// The runtime's own check of a snapshot before anything changes. The control plane validates
// DTOs first; this guards the data plane against anything that slipped through (or a direct caller).
import { isIP } from 'node:net';
import type { Snapshot } from '../config/snapshot.js';
import { parseCidr } from './cidr.js';
import { RuntimeError, type RuntimeErrorSubject } from './errors.js';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const BALANCE = ['source', 'roundrobin', 'leastconn', 'first', 'cmpp-account'];
const HASH_TYPE = ['consistent', 'map-based'];
const CHECK_TYPE = ['tcp', 'cmpp', 'none'];
const SEND_PROXY = ['none', 'v1', 'v2'];
const ON_MARKED_DOWN = ['keep', 'shutdown-sessions'];

function fail(field: string, message: string, subject: RuntimeErrorSubject = {}): never {
  throw new RuntimeError('INVALID_SNAPSHOT', `${field}: ${message}`, { ...subject, field });
}

function isInt(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function requireInt(
  value: unknown,
  field: string,
  min: number,
  max: number,
  subject?: RuntimeErrorSubject,
): void {
  if (!isInt(value, min, max)) fail(field, `must be an integer between ${min} and ${max}`, subject);
}

function requireOneOf(value: unknown, allowed: string[], field: string, subject?: RuntimeErrorSubject): void {
  if (typeof value !== 'string' || !allowed.includes(value))
    fail(field, `must be one of ${allowed.join(', ')}`, subject);
}

function requireName(value: unknown, field: string, subject?: RuntimeErrorSubject): void {
  if (typeof value !== 'string' || !NAME.test(value))
    fail(field, 'must match /^[A-Za-z0-9_.-]{1,64}$/', subject);
}

const MAX_MS = 2_147_483_647; // setTimeout's limit

/** Throws RuntimeError INVALID_SNAPSHOT naming the first offending field. */
export function checkSnapshot(snapshot: Snapshot): void {
  if (!snapshot || typeof snapshot !== 'object') fail('snapshot', 'must be an object');
  const d = snapshot.defaults;
  if (!d || typeof d !== 'object') fail('defaults', 'is required');
  requireInt(d.maxconn, 'defaults.maxconn', 1, 10_000_000);
  if (!d.timeouts || typeof d.timeouts !== 'object') fail('defaults.timeouts', 'is required');
  for (const key of ['connect', 'client', 'server', 'check'] as const) {
    requireInt(d.timeouts[key], `defaults.timeouts.${key}`, 1, MAX_MS);
  }
  if (!Array.isArray(snapshot.frontends)) fail('frontends', 'must be an array');
  if (!Array.isArray(snapshot.backends)) fail('backends', 'must be an array');

  const backendNames = new Set<string>();
  snapshot.backends.forEach((b, i) => {
    const at = `backends[${i}]`;
    requireName(b?.name, `${at}.name`);
    const subject = { backend: b.name };
    if (backendNames.has(b.name)) fail(`${at}.name`, `duplicate backend "${b.name}"`, subject);
    backendNames.add(b.name);
    requireOneOf(b.balance, BALANCE, `${at}.balance`, subject);
    requireOneOf(b.hashType, HASH_TYPE, `${at}.hashType`, subject);
    requireOneOf(b.sendProxy, SEND_PROXY, `${at}.sendProxy`, subject);
    requireOneOf(b.onMarkedDown, ON_MARKED_DOWN, `${at}.onMarkedDown`, subject);
    if (!b.check || typeof b.check !== 'object') fail(`${at}.check`, 'is required', subject);
    requireOneOf(b.check.type, CHECK_TYPE, `${at}.check.type`, subject);
    requireInt(b.check.inter, `${at}.check.inter`, 10, MAX_MS, subject);
    requireInt(b.check.fall, `${at}.check.fall`, 1, 1000, subject);
    requireInt(b.check.rise, `${at}.check.rise`, 1, 1000, subject);
    if (b.check.timeout !== undefined) requireInt(b.check.timeout, `${at}.check.timeout`, 1, MAX_MS, subject);
    if (!Array.isArray(b.servers)) fail(`${at}.servers`, 'must be an array', subject);
    const serverNames = new Set<string>();
    b.servers.forEach((s, j) => {
      const sat = `${at}.servers[${j}]`;
      requireName(s?.name, `${sat}.name`, subject);
      const ssubject = { backend: b.name, server: s.name };
      if (serverNames.has(s.name)) fail(`${sat}.name`, `duplicate server "${s.name}"`, ssubject);
      serverNames.add(s.name);
      // Host names are resolved by apply (resolver.ts): the hot path never waits for DNS.
      if (typeof s.address !== 'string' || (isIP(s.address) === 0 && !HOST_NAME.test(s.address)))
        fail(`${sat}.address`, 'must be an IP address or host name', ssubject);
      requireInt(s.port, `${sat}.port`, 1, 65535, ssubject);
      requireInt(s.weight, `${sat}.weight`, 0, 256, ssubject);
      if (s.maxconn !== undefined) requireInt(s.maxconn, `${sat}.maxconn`, 1, 10_000_000, ssubject);
      if (typeof s.backup !== 'boolean') fail(`${sat}.backup`, 'must be a boolean', ssubject);
      if (typeof s.check !== 'boolean') fail(`${sat}.check`, 'must be a boolean', ssubject);
    });
  });

  const frontendNames = new Set<string>();
  const binds = new Set<string>();
  snapshot.frontends.forEach((f, i) => {
    const at = `frontends[${i}]`;
    requireName(f?.name, `${at}.name`);
    const subject = { frontend: f.name };
    if (frontendNames.has(f.name)) fail(`${at}.name`, `duplicate frontend "${f.name}"`, subject);
    frontendNames.add(f.name);
    if (!f.bind || typeof f.bind !== 'object') fail(`${at}.bind`, 'is required', subject);
    if (typeof f.bind.address !== 'string' || isIP(f.bind.address) === 0) {
      fail(`${at}.bind.address`, "must be '0.0.0.0', '::' or an IP address", subject);
    }
    requireInt(f.bind.port, `${at}.bind.port`, 1, 65535, subject);
    const bind = `${f.bind.address}:${f.bind.port}`;
    if (binds.has(bind)) fail(`${at}.bind`, `duplicate bind ${bind}`, subject);
    binds.add(bind);
    if (typeof f.backend !== 'string' || !backendNames.has(f.backend)) {
      fail(`${at}.backend`, `unknown backend "${String(f.backend)}"`, subject);
    }
    if (f.maxconn !== undefined) requireInt(f.maxconn, `${at}.maxconn`, 1, 10_000_000, subject);
    if (f.allow !== undefined) {
      if (!Array.isArray(f.allow)) fail(`${at}.allow`, 'must be an array of CIDRs', subject);
      f.allow.forEach((cidr, j) => {
        if (typeof cidr !== 'string' || !parseCidr(cidr))
          fail(`${at}.allow[${j}]`, `invalid CIDR "${String(cidr)}"`, subject);
      });
    }
    if (f.inspect !== undefined) requireOneOf(f.inspect, ['none', 'cmpp'], `${at}.inspect`, subject);
    if (typeof f.enabled !== 'boolean') fail(`${at}.enabled`, 'must be a boolean', subject);
  });
}
