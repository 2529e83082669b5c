import { useEffect, useRef, useState } from 'preact/hooks';

/** Runs `load` now and every `periodMs` while mounted; returns its last result or error. */
export function usePoll<T>(load: () => Promise<T>, periodMs: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<unknown>();
  const latest = useRef(load);
  latest.current = load;
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout>;
    const run = async () => {
      try {
        const v = await latest.current();
        if (alive) {
          setData(v);
          setError(undefined);
        }
      } catch (e) {
        if (alive) setError(e);
      }
      if (alive) timer = setTimeout(run, periodMs);
    };
    void run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [periodMs, tick, ...deps]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** Current time, re-rendering every `periodMs`. */
export function useNow(periodMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(t);
  }, [periodMs]);
  return now;
}
