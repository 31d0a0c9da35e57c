// Linux /proc readings of a benchmarked server's process group (a spawned node with its tsx
// wrapper, or a Hardhat node): peak resident memory and CPU time. CPU ms per transaction is
// the figure that stays meaningful on a machine shared with other work, where wall-clock
// rates are not. Elsewhere (no /proc) both read 0. Reads only.

import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

function groupStats(pgid: number): Array<{ pid: string; fields: string[] }> {
  const out: Array<{ pid: string; fields: string[] }> = [];
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) out.push({ pid, fields });
    } catch {
      // process gone
    }
  }
  return out;
}

/** Peak resident memory (VmHWM) over the processes of a process group, in kB. */
export function groupPeakRssKb(pgid: number): number {
  let max = 0;
  for (const { pid } of groupStats(pgid)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) max = Math.max(max, Number(m[1]));
    } catch {
      // process gone
    }
  }
  return max;
}

/** User + system CPU time so far of the live processes of a process group, in ms. */
export function groupCpuMs(pgid: number): number {
  let ticks = 0;
  // fields after the comm: [0] state ... [11] utime [12] stime
  for (const { fields } of groupStats(pgid)) ticks += Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / TICKS_PER_S;
}

/** CPU time of this process so far (user + system), in ms. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU time so far of each process's main thread (its thread id is its pid) in a process
 * group, summed, in ms: what bounds a single-threaded event loop's rate once the other
 * threads (hash thread, GC helpers, LevelDB) have a core of their own.
 */
export function groupMainThreadCpuMs(pgid: number): number {
  let ticks = 0;
  for (const { pid } of groupStats(pgid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // process gone
    }
  }
  return (ticks * 1000) / TICKS_PER_S;
}

/**
 * Bytes the processes of a process group have caused to be written to storage so far
 * (/proc/<pid>/io write_bytes less cancelled_write_bytes: pages dirtied in files deleted
 * before they reached the disk, e.g. LevelDB tables a compaction replaced at once). Sockets
 * are not counted. 0 where /proc/<pid>/io is not readable.
 */
export function groupDiskWriteBytes(pgid: number): number {
  let bytes = 0;
  for (const { pid } of groupStats(pgid)) {
    try {
      const io = readFileSync(`/proc/${pid}/io`, "utf8");
      const w = /^write_bytes:\s+(\d+)$/m.exec(io);
      const c = /^cancelled_write_bytes:\s+(\d+)$/m.exec(io);
      bytes += Number(w?.[1] ?? 0) - Number(c?.[1] ?? 0);
    } catch {
      // process gone, or no /proc/<pid>/io
    }
  }
  return bytes;
}
