// Wires one health checker per checked server (gobetween) and turns its UP/DOWN changes into server
// health, backend status, events and, when the backend asks for it, closed sessions.
import type { BackendCheck, Snapshot } from '../schema/snapshot.js';
import { isInService } from './availability.js';
import type { BackendRuntime, ServerRuntime } from './backend.js';
import { closeServerSessions } from './connections.js';
import { HealthChecker } from './health/checker.js';
import type { Probe, ProbeResult } from './health/probe.js';
import { cmppProbe } from './health/cmpp-probe.js';
import { tcpCheckProbe } from './health/tcp-check-probe.js';
import { tcpProbe } from './health/tcp-probe.js';
import type { RuntimeState } from './state.js';

/**
 * The probe for a check: a CMPP login needs the check's credentials (schema/check.ts requires them); a tcp check
 * with steps runs its tcp-check sequence, one without only opens a connection.
 */
function probeFor(check: BackendCheck): Probe {
  if (check.type === 'cmpp' && check.cmpp) return cmppProbe(check.cmpp);
  if (check.steps && check.steps.length > 0) return tcpCheckProbe(check.steps);
  return tcpProbe;
}

export function reconcileChecker(
  state: RuntimeState,
  backend: BackendRuntime,
  server: ServerRuntime,
  snapshot: Snapshot,
): void {
  const check = backend.config.check;
  if (server.dnsError !== undefined) {
    // Nothing to check until the name resolves again.
    stopChecker(server);
    setHealth(state, backend, server, 'DOWN', {
      ok: false,
      status: 'L4CON',
      durationMs: 0,
      description: server.dnsError,
    });
    return;
  }
  if (check.type === 'none' || !server.config.check) {
    stopChecker(server);
    if (server.health === 'DOWN') setHealth(state, backend, server, 'UP', undefined);
    return;
  }
  if (state.externalChecks) {
    // Checked once, elsewhere (docs/workers.md): follow the last pushed health, UP until one arrives.
    stopChecker(server);
    followExternalHealth(state, backend, server);
    return;
  }
  const settings = {
    inter: check.inter,
    fall: check.fall,
    rise: check.rise,
    timeout: check.timeout ?? snapshot.defaults.timeouts.check,
    // Present even when undefined: an update that drops them goes back to inter.
    fastinter: check.fastinter,
    downinter: check.downinter,
  };
  // Where checks go (HAProxy's `port`: another port than the traffic's) and what they say; a change there means
  // a new checker, anything else is an update.
  const port = server.config.checkPort ?? server.config.port;
  const steps = check.type === 'tcp' ? (check.steps ?? null) : null;
  const signature = JSON.stringify([check.type, server.ip, port, check.cmpp ?? null, steps]);
  if (server.checker && server.checkerSignature === signature) {
    server.checker.update(settings);
    return;
  }
  stopChecker(server);
  const checker = new HealthChecker({
    target: { address: server.ip, port },
    probe: probeFor(check),
    ...settings,
    onChange: (health, result) => {
      if (server.checker !== checker) return;
      const current = state.backends.get(server.backendName);
      if (current) setHealth(state, current, server, health, result);
    },
  });
  server.checker = checker;
  server.checkerSignature = signature;
  // A new checker starts UP (like HAProxy); the server is UP until it proves otherwise.
  if (server.health === 'DOWN') setHealth(state, backend, server, 'UP', undefined);
  if (server.adminState === 'maint') checker.pause();
  checker.start();
}

/** A server's host name has a new answer (address or failure): checks and health follow it. */
export function markResolution(
  state: RuntimeState,
  backend: BackendRuntime,
  server: ServerRuntime,
  resolution: { ip: string; dnsError?: string },
): void {
  server.ip = resolution.ip;
  server.dnsError = resolution.dnsError;
  reconcileChecker(state, backend, server, state.snapshot);
}

/** Sets a server's health to what was pushed for it (UP when nothing was), with the usual consequences. */
export function followExternalHealth(
  state: RuntimeState,
  backend: BackendRuntime,
  server: ServerRuntime,
): void {
  const pushed = state.externalHealth.get(server.key);
  const result: ProbeResult | undefined = pushed && {
    ok: pushed.health === 'UP',
    status: pushed.checkStatus || 'L4OK',
    durationMs: 0,
    description: pushed.description,
  };
  setHealth(state, backend, server, pushed?.health ?? 'UP', result);
}

/** Stops a server's checker, folding its totals into the server so a restart keeps the history. */
export function stopChecker(server: ServerRuntime): void {
  const checker = server.checker;
  if (!checker) return;
  checker.stop();
  server.chkfailBase += checker.chkfail;
  server.chkdownBase += checker.chkdown;
  server.downtimeBaseMs += checker.downtimeMs;
  server.checker = undefined;
  server.checkerSignature = '';
}

function setHealth(
  state: RuntimeState,
  backend: BackendRuntime,
  server: ServerRuntime,
  health: 'UP' | 'DOWN',
  result: ProbeResult | undefined,
): void {
  const from = server.health;
  if (from === health) return;
  const now = Date.now();
  server.health = health;
  server.lastChangeAt = now;
  state.log(health === 'UP' ? 'info' : 'warn', `server ${server.key} is ${health}`, { check: result });
  state.emit({
    type: 'health',
    backend: backend.name,
    server: server.config.name,
    from,
    to: health,
    checkStatus: result?.status ?? '',
    at: now,
  });
  backend.setUp(backendInService(backend), now);
  const onMarkedDown = backend.config.onMarkedDown;
  if (health === 'DOWN' && onMarkedDown !== 'keep' && server.sessions.size > 0) {
    // terminate: inspected sessions end the CMPP way (cmpp-close.ts), the others are cut.
    closeServerSessions(state, server, 'marked down', onMarkedDown === 'terminate');
  }
}

/** A backend is UP while a server is in service, and when it has no server at all (HAProxy 2.6 shows that UP). */
export function backendInService(backend: BackendRuntime): boolean {
  return backend.servers.length === 0 || backend.servers.some(isInService);
}
