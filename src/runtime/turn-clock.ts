// A millisecond clock read at most once per event-loop turn, for CMPP inspection's SUBMIT latency
// (docs/cmpp-inspection.md, "Cost"). performance.now() costs ~50 ns; under load one turn of the loop
// reads many sockets, and reading the clock per chunk made up a good part of the inspection's cost. Every
// read in one turn gets the time of the first: a latency is off by at most the length of a turn, which
// is also how late the relay gets to see an answer under that load. One setImmediate per turn that
// used the clock (never per chunk when the loop is busy) expires the reading.
import { performance } from 'node:perf_hooks';

let reading = -1;

function expire(): void {
  reading = -1;
}

/** performance.now() as of this event-loop turn's first call. */
export function turnClock(): number {
  if (reading < 0) {
    reading = performance.now();
    setImmediate(expire);
  }
  return reading;
}
