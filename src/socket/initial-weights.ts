// HAProxy's "initial" weight (iweight) is the config file's and `set weight` never changes it, so the classic
// `set weight be/s 0%` … `set weight be/s 100%` takes a server out and puts it back. In Tether a weight set on
// the socket is a revision (the config's weight changes), so the weight a server had before the socket's first
// change is remembered here, for `n%` and `get weight`'s "(initial n)". It is forgotten once the weight is changed
// by other means (REST, console, import) and when the process restarts (then the config's weight is the initial).

/** At most this many servers remembered (the config's own limit, docs/config-limits.md); the oldest go first. */
const MAX_REMEMBERED = 20_000;

export class InitialWeights {
  private readonly byServer = new Map<string, { initial: number; set: number }>();

  /** The initial weight of a server whose weight in the config is now `current`. */
  initial(backend: string, server: string, current: number): number {
    const key = `${backend}/${server}`;
    const known = this.byServer.get(key);
    if (known && known.set === current) return known.initial;
    if (known) this.byServer.delete(key);
    return current;
  }

  /** The socket set the weight to `weight`; `initial` is what initial() answered before the change. */
  changed(backend: string, server: string, initial: number, weight: number): void {
    const key = `${backend}/${server}`;
    this.byServer.delete(key);
    if (this.byServer.size >= MAX_REMEMBERED) {
      const oldest = this.byServer.keys().next().value;
      if (oldest !== undefined) this.byServer.delete(oldest);
    }
    this.byServer.set(key, { initial, set: weight });
  }

  get size(): number {
    return this.byServer.size;
  }
}
