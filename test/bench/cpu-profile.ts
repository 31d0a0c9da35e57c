// Reading V8 CPU profiles (.cpuprofile from `node --cpu-prof` or the inspector): self time
// per function, biggest first, optionally only over a window of the monotonic clock (the
// profile's timestamps are CLOCK_MONOTONIC µs, the same clock as process.hrtime in any
// process of the machine, so a client can cut a node's profile to its timed part).
// `npm run bench -- profile FILE` prints the table of a profile file (profile.ts).

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTimeRow {
  fn: string;
  self_ms: number;
  pct: number;
}

/** Monotonic clock in µs, comparable with CPU-profile timestamps of any process here. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time per function (name + file:line), biggest first. Native functions (no file) and
 * anonymous functions (the crypto addon's bindings are called through arrow functions) are
 * split by their nearest JS callers, so the hashing done by the trie commit, by transaction
 * hashes and by contract execution show separately. `window_us` keeps only samples
 * taken inside [from, to].
 */
export function topSelfTime(p: CpuProfile, n: number, window_us?: { from: number; to: number }): { rows: SelfTimeRow[]; total_ms: number } {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const label = (id: number): string => {
    const cf = byId.get(id)!.callFrame;
    const file = cf.url.replace(/^file:\/\//, "").replace(/^.*\/(?=(state|contracts|sequencer|scripts|test|node_modules)\/)/, "");
    return `${cf.functionName || "(anonymous)"} ${file ? `${file}:${cf.lineNumber + 1}` : ""}`.trim();
  };
  const self = new Map<string, number>();
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (window_us && (t < window_us.from || t > window_us.to)) return;
    const cf = byId.get(id)!.callFrame;
    let key = label(id);
    // Native functions and anonymous wrappers (the addon's bindings are called through small
    // arrow functions): name them by their callers.
    if ((cf.url === "" && !cf.functionName.startsWith("(")) || (cf.url !== "" && cf.functionName === "")) {
      const chain: string[] = [];
      for (let up = parent.get(id); up !== undefined && chain.length < 3; up = parent.get(up)) if (byId.get(up)!.callFrame.url !== "") chain.push(label(up).replace(/ .*$/, ""));
      key = `${key}${cf.url === "" ? " [native]" : ""} ← ${chain.join(" ← ")}`;
    }
    self.set(key, (self.get(key) ?? 0) + dt / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const rows = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, self_ms: round(ms), pct: round((100 * ms) / total) }));
  return { rows, total_ms: round(total) };
}

export function formatRows(rows: SelfTimeRow[]): string {
  return rows.map((r) => `  ${r.pct.toFixed(1).padStart(5)} %  ${r.self_ms.toFixed(0).padStart(7)} ms  ${r.fn}`).join("\n");
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
