// CPU time and memory of a process, from /proc (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, normally 100). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface CpuTime {
  userMs: number;
  systemMs: number;
}

/** A proxy is one process or several (worker processes): its figures are summed over them. */
export type Pids = number | readonly number[];

/** utime and stime of every thread of the process(es), in milliseconds. */
export function cpuTime(pids: Pids): CpuTime {
  if (typeof pids !== 'number') {
    const sum = { userMs: 0, systemMs: 0 };
    for (const pid of pids) {
      const one = cpuTime(pid);
      sum.userMs += one.userMs;
      sum.systemMs += one.systemMs;
    }
    return sum;
  }
  const pid = pids;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = clockTicksPerSecond();
  return {
    userMs: (Number(fields[11]) * 1000) / ticks, // field 14, utime
    systemMs: (Number(fields[12]) * 1000) / ticks, // field 15, stime
  };
}

/** utime + stime in milliseconds. */
export function cpuMs(pids: Pids): number {
  const { userMs, systemMs } = cpuTime(pids);
  return userMs + systemMs;
}

/** Resident set size in KB (VmRSS), summed over the processes. */
export function rssKb(pids: Pids): number {
  if (typeof pids !== 'number') return pids.reduce((sum, pid) => sum + rssKb(pid), 0);
  const pid = pids;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** A process and all its descendants (the appliance's workers and warm spare). */
export function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const tid of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/))
      if (tid) out.push(...processTree(Number(tid)));
  } catch {
    // gone meanwhile
  }
  return out;
}

/** utime + stime in ms of each process still there, by pid (a process gone meanwhile is left out). */
export function cpuMsOf(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      out.set(pid, cpuMs(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
