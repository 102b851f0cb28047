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

/** Resident bytes of a process by kind of mapping (see {@linkcode residentByKind}). */
export interface ResidentByKind {
  /** The main malloc arena (`[heap]`, grown with brk). */
  mainArena: number;
  /** Other malloc arenas: 64 MiB-aligned anonymous heaps that glibc gives threads. */
  threadArenas: number;
  /** Other anonymous memory: the V8 heap, large allocations (mmap), thread stacks. */
  otherAnonymous: number;
  /** Mapped files: the executable and libraries. */
  files: number;
}

const ARENA_SIZE = 64 * 1024 * 1024; // glibc HEAP_MAX_SIZE on 64-bit

/**
 * Splits `pid`'s resident memory (`/proc/<pid>/smaps`) by kind of mapping.
 * A glibc thread arena is a 64 MiB-aligned reservation whose used part is
 * read-write and whose rest is inaccessible, so it shows as an anonymous
 * `rw-p` mapping at a 64 MiB boundary followed by a `---p` one, together
 * 64 MiB.
 */
export function residentByKind(pid: number): ResidentByKind {
  const maps: { start: number; end: number; perms: string; path: string; rss: number }[] = [];
  for (const line of Deno.readTextFileSync(`/proc/${pid}/smaps`).split("\n")) {
    const head = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/);
    if (head) {
      const [, start, end, perms, path] = head;
      maps.push({ start: parseInt(start, 16), end: parseInt(end, 16), perms, path, rss: 0 });
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+) kB/);
    if (rss && maps.length > 0) maps[maps.length - 1].rss = Number(rss[1]) * 1024;
  }
  const out: ResidentByKind = { mainArena: 0, threadArenas: 0, otherAnonymous: 0, files: 0 };
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    if (m.path === "[heap]") out.mainArena += m.rss;
    else if (m.path.startsWith("/")) out.files += m.rss;
    else if (
      m.path === "" && m.perms === "rw-p" && m.start % ARENA_SIZE === 0 && next !== undefined &&
      next.start === m.end && next.perms === "---p" && next.end - m.start === ARENA_SIZE
    ) out.threadArenas += m.rss;
    else if (
      m.path === "" && m.perms === "rw-p" && m.start % ARENA_SIZE === 0 &&
      m.end - m.start === ARENA_SIZE
    ) out.threadArenas += m.rss; // an arena grown to its full 64 MiB
    else out.otherAnonymous += m.rss;
  });
  return out;
}
