/**
 * Reading a process's memory and CPU time from /proc (Linux).
 *
 * @module
 */

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** Resident set size of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for process ${pid}`);
  return kb * 1024;
}

/** User + system CPU time used so far by `pid`, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Direct children of `pid`. */
export function childPids(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`)
      .trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
