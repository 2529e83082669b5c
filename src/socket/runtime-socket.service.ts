// The HAProxy-compatible runtime socket (docs/runtime-socket.md): listens on TETHER_SOCKET (mode 600) and
// answers the CLI commands through the same services as the REST API, as the admin user `socket`.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { ServerStatesService } from '../backends/server-states.service.js';
import { BackendsService } from '../backends/backends.service.js';
import type { ChangeContext } from '../common/change-context.js';
import { DomainError, NotFoundError } from '../common/errors.js';
import { ConfigService } from '../config/config.service.js';
import { FrontendsService } from '../frontends/frontends.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { AdminState, ProxyRuntimeApi } from '../runtime/types.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { SETTINGS, socketPathOf, type Settings } from '../settings.js';
import { StatsService } from '../stats/stats.service.js';
import type { CliTarget } from './cli-commands.js';
import { InitialWeights } from './initial-weights.js';
import type { ProcessInfo } from './cli-formats.js';
import { createCliServer } from './cli-server.js';

/** Who acts through the socket: only the appliance's own user can open it (mode 600), so it acts as admin. */
const SOCKET_CHANGE: ChangeContext = { actor: { username: 'socket', role: 'admin' }, sourceAddress: 'unix' };

/** Tether's version for `show info`: from the nearest package.json above this file ('unknown' without one). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    try {
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown })
        .version;
      return typeof version === 'string' ? version : 'unknown';
    } catch {
      dir = dirname(dir);
    }
  }
  return 'unknown';
}

const VERSION = packageVersion();

@Injectable()
export class RuntimeSocketService implements OnApplicationBootstrap, OnModuleDestroy, CliTarget {
  private readonly logger = new Logger('RuntimeSocket');
  private server?: ReturnType<typeof createCliServer>;
  private listeningOn?: string;
  private readonly startedAt = Date.now();
  readonly initialWeights = new InitialWeights();

  constructor(
    @Inject(SETTINGS) private readonly settings: Settings,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
    private readonly stats_: StatsService,
    private readonly sessions_: SessionsService,
    private readonly states: ServerStatesService,
    private readonly backends: BackendsService,
    private readonly frontends: FrontendsService,
    private readonly audit: AuditService,
  ) {}

  /** Its connections, for diagnostics and tests: unread output stays bounded however slow a client reads. */
  get connections(): ReadonlySet<net.Socket> {
    return this.server?.sockets ?? new Set();
  }

  /** Where the socket listens (undefined when turned off or not yet started). */
  get path(): string | undefined {
    return this.listeningOn;
  }

  async onApplicationBootstrap(): Promise<void> {
    const path = socketPathOf(this.settings);
    if (path === false) return;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    await removeStaleSocket(path);
    const server = createCliServer(this, undefined, (error) => {
      if (!(error instanceof DomainError)) this.logger.error(`command failed: ${(error as Error).message}`);
    });
    // Bound with no access for group and others from its first moment, then chmod for certainty
    // (worker threads can't set the umask: there the chmod alone does it).
    const umask = setUmask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      if (umask !== undefined) setUmask(umask);
    }
    chmodSync(path, 0o600);
    server.on('error', (error) => this.logger.error(`runtime socket: ${error.message}`));
    this.server = server;
    this.listeningOn = path;
    this.logger.log(`runtime socket listening on ${path}`);
  }

  /** Closed first at shutdown, before the config pipeline and the database stop taking changes. */
  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const client of server.sockets) client.destroy();
    await closed;
    // net.Server removes its socket file on close; this covers a path replaced behind our back.
    if (this.listeningOn && existsSync(this.listeningOn)) {
      try {
        unlinkSync(this.listeningOn);
      } catch {
        // already gone
      }
    }
    this.listeningOn = undefined;
  }

  // ---- CliTarget ----

  snapshot() {
    return this.config.snapshot;
  }

  stats() {
    return this.stats_.stats({ cmppAccounts: false });
  }

  showStat() {
    return this.stats_.csv();
  }

  sessions() {
    return this.runtime.sessions();
  }

  info(): ProcessInfo {
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      maxconn: this.config.snapshot.defaults.maxconn,
    };
  }

  async setWeight(backend: string, server: string, weight: number): Promise<void> {
    await this.audited('server.weight', `${backend}/${server}`, () =>
      this.backends.updateServer(backend, server, { weight }, { ...SOCKET_CHANGE }),
    );
  }

  async setAdminState(backend: string, server: string, state: AdminState): Promise<void> {
    await this.audited('server.state', `${backend}/${server}`, () =>
      this.states.setState(backend, server, { state }, { ...SOCKET_CHANGE }),
    );
  }

  async shutdownSessions(backend: string, server: string): Promise<number> {
    const result = await this.audited('server.shutdown-sessions', `${backend}/${server}`, () =>
      this.states.shutdownSessions(backend, server, { ...SOCKET_CHANGE }),
    );
    return result.closed;
  }

  async killSession(id: string): Promise<boolean> {
    try {
      await this.sessions_.kill(id, { ...SOCKET_CHANGE });
      return true;
    } catch (error) {
      // HAProxy's answer for a session that is gone; not a failed change worth a row of its own.
      if (error instanceof NotFoundError) return false;
      await this.recordFailure('session.kill', id, error);
      throw error;
    }
  }

  async setFrontendEnabled(frontend: string, enabled: boolean): Promise<boolean> {
    const result = await this.audited('frontend.update', frontend, () =>
      this.frontends.update(frontend, { enabled }, { ...SOCKET_CHANGE }),
    );
    return result.changed;
  }

  /** A change the services refused is audited as failed, as the REST routes' interceptor does. */
  private async audited<T>(action: string, target: string, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      await this.recordFailure(action, target, error);
      throw error;
    }
  }

  private recordFailure(action: string, target: string, error: unknown): Promise<void> {
    return this.audit.recordFailure({
      actor: SOCKET_CHANGE.actor,
      sourceAddress: SOCKET_CHANGE.sourceAddress,
      action,
      target,
      result: 'failed',
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}

function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}

/**
 * A socket file left by a process that is gone is replaced; a live one (another Tether answers on it) or a
 * file that is not a socket is refused rather than taken away.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`TETHER_SOCKET ${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`TETHER_SOCKET ${path} is in use by another process`);
  unlinkSync(path);
}
