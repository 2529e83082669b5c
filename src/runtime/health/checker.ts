// One health worker per server (gobetween's model, HAProxy's meanings): `fall` consecutive failed
// checks mark the server DOWN, `rise` consecutive good ones mark it UP again. Servers start UP, as in
// HAProxy. One timer per checker, re-armed only after a probe completes, so probes never overlap.
import type { Health } from '../types.js';
import type { Probe, ProbeResult, ProbeTarget } from './probe.js';

export interface HealthCheckerSettings {
  inter: number;
  fall: number;
  rise: number;
  timeout: number;
  /** HAProxy's fastinter: the interval while a transition is under way (`checking`); absent: inter. */
  fastinter?: number;
  /** HAProxy's downinter: the interval while DOWN with no success counted; absent: inter. */
  downinter?: number;
}

export interface HealthCheckerOptions extends HealthCheckerSettings {
  target: ProbeTarget;
  probe: Probe;
  /** Every counted result, probe or passive, once the state it leads to is in place. */
  onResult?: (result: ProbeResult) => void;
  /** Called after the state changed. */
  onChange: (health: Health, result: ProbeResult) => void;
}

export class HealthChecker {
  private readonly target: ProbeTarget;
  private readonly probe: Probe;
  private readonly onResult?: (result: ProbeResult) => void;
  private readonly onChange: (health: Health, result: ProbeResult) => void;
  private settings: HealthCheckerSettings;

  private timer: NodeJS.Timeout | undefined;
  private scheduledAt = 0;
  private running = false;
  private inFlight = false;
  /** Aborted when the probe in flight is no longer waited for (stop, pause): it closes its connection at once. */
  private abandon: AbortController | undefined;
  /** Bumped by stop/pause so a probe that was in flight then is ignored when it completes. */
  private generation = 0;

  private _health: Health = 'UP';
  private _paused = false;
  private _consecutiveFailures = 0;
  private _consecutiveSuccesses = 0;
  private _lastResult: ProbeResult | undefined;
  private _lastCheckAt = 0;
  private _chkfail = 0;
  private _chkdown = 0;
  private _lastChangeAt = Date.now();
  private downtimeBeforeMs = 0;

  constructor(options: HealthCheckerOptions) {
    this.target = { address: options.target.address, port: options.target.port };
    this.probe = options.probe;
    this.onResult = options.onResult;
    this.onChange = options.onChange;
    this.settings = normalize(options);
  }

  get health(): Health {
    return this._health;
  }
  get paused(): boolean {
    return this._paused;
  }
  /** A transition is under way: UP with failures counted, or DOWN with successes counted. */
  get checking(): boolean {
    return this._health === 'UP' ? this._consecutiveFailures > 0 : this._consecutiveSuccesses > 0;
  }
  get consecutiveFailures(): number {
    return this._consecutiveFailures;
  }
  get consecutiveSuccesses(): number {
    return this._consecutiveSuccesses;
  }
  get lastResult(): ProbeResult | undefined {
    return this._lastResult;
  }
  /** Epoch ms of the last completed probe, 0 when never. */
  get lastCheckAt(): number {
    return this._lastCheckAt;
  }
  get chkfail(): number {
    return this._chkfail;
  }
  get chkdown(): number {
    return this._chkdown;
  }
  get lastChangeAt(): number {
    return this._lastChangeAt;
  }
  /** Total time spent DOWN, the current DOWN period included. */
  get downtimeMs(): number {
    return this.downtimeBeforeMs + (this._health === 'DOWN' ? Date.now() - this._lastChangeAt : 0);
  }
  get inter(): number {
    return this.settings.inter;
  }
  /**
   * The wait before the next probe, as HAProxy's srv_getinter(): inter while fully UP, downinter while fully DOWN,
   * fastinter in between (UP with failures counted, DOWN with successes counted).
   */
  get nextInterval(): number {
    const { inter, fastinter, downinter } = this.settings;
    if (this.checking) return fastinter ?? inter;
    return this._health === 'DOWN' ? (downinter ?? inter) : inter;
  }
  get fall(): number {
    return this.settings.fall;
  }
  get rise(): number {
    return this.settings.rise;
  }
  get timeout(): number {
    return this.settings.timeout;
  }

  /** Starts checking; the first probe runs at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (!this._paused) this.schedule(0);
  }

  /** Stops checking; state and counters are kept. A probe in flight is abandoned (its result ignored). */
  stop(): void {
    this.running = false;
    this.cancel();
    this.abandonInFlight();
  }

  /** Admin `maint`: no probes and no passive results until resume(); the state is frozen. */
  pause(): void {
    if (this._paused) return;
    this._paused = true;
    this.cancel();
    this.abandonInFlight();
  }

  private abandonInFlight(): void {
    this.abandon?.abort();
    this.abandon = undefined;
  }

  resume(): void {
    if (!this._paused) return;
    this._paused = false;
    if (this.running) this.schedule(0);
  }

  /** A failure seen on live traffic (HAProxy `observe layer4`): counts toward `fall` like a failed check. */
  reportPassiveFailure(result: ProbeResult): void {
    if (this._paused) return;
    this.record(result.ok ? { ...result, ok: false } : result);
  }

  /**
   * New check settings apply from the next probe. Only a changed `inter` touches a pending wait, and it
   * keeps the time already waited: frequent applies that don't change it must never postpone a check.
   */
  update(settings: Partial<HealthCheckerSettings>): void {
    const previousInterval = this.nextInterval;
    this.settings = normalize({ ...this.settings, ...settings });
    const interval = this.nextInterval;
    if (this.timer && interval !== previousInterval) {
      const waitStartedAt = this.scheduledAt;
      this.cancel();
      this.schedule(Math.max(0, waitStartedAt + interval - Date.now()), waitStartedAt);
    }
  }

  private schedule(delayMs: number, waitStartedAt = Date.now()): void {
    if (this.timer || this.inFlight) return;
    const generation = this.generation;
    this.scheduledAt = waitStartedAt;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run(generation);
    }, delayMs);
    this.timer.unref();
  }

  private cancel(): void {
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(generation: number): Promise<void> {
    this.inFlight = true;
    const abandon = new AbortController();
    this.abandon = abandon;
    let result: ProbeResult;
    try {
      result = await this.probe(this.target, this.settings.timeout, abandon.signal);
    } catch (err) {
      // Probes promise never to throw; a broken one still must not kill the checker.
      result = { ok: false, status: 'SOCKERR', durationMs: 0, description: String(err) };
    }
    this.inFlight = false;
    if (this.abandon === abandon) this.abandon = undefined;
    if (generation === this.generation) {
      this._lastCheckAt = Date.now();
      try {
        this.record(result);
      } catch (err) {
        // A throwing listener is a bug in the caller; report it without stopping the checks.
        process.emitWarning(`health check listener failed: ${String(err)}`);
      }
    }
    // A stale result (stopped or paused meanwhile) is dropped; a start/resume that waited for it goes on now.
    if (this.running && !this._paused) this.schedule(generation === this.generation ? this.nextInterval : 0);
  }

  private record(result: ProbeResult): void {
    this._lastResult = result;
    if (result.ok) {
      this._consecutiveSuccesses++;
      this._consecutiveFailures = 0;
    } else {
      this._chkfail++;
      this._consecutiveFailures++;
      this._consecutiveSuccesses = 0;
    }
    const { fall, rise } = this.settings;
    if (this._health === 'UP' && this._consecutiveFailures >= fall) this.transition('DOWN', result);
    else if (this._health === 'DOWN' && this._consecutiveSuccesses >= rise) this.transition('UP', result);
    // After the transition, so a listener reading the getters sees the state this result led to.
    this.onResult?.(result);
  }

  private transition(to: Health, result: ProbeResult): void {
    const now = Date.now();
    if (to === 'UP') this.downtimeBeforeMs += now - this._lastChangeAt;
    else this._chkdown++;
    this._health = to;
    this._lastChangeAt = now;
    this._consecutiveFailures = 0;
    this._consecutiveSuccesses = 0;
    this.onChange(to, result);
  }
}

function normalize(settings: HealthCheckerSettings): HealthCheckerSettings {
  return {
    inter: Math.max(1, settings.inter),
    fall: Math.max(1, Math.floor(settings.fall)),
    rise: Math.max(1, Math.floor(settings.rise)),
    timeout: Math.max(1, settings.timeout),
    fastinter: settings.fastinter === undefined ? undefined : Math.max(1, settings.fastinter),
    downinter: settings.downinter === undefined ? undefined : Math.max(1, settings.downinter),
  };
}
