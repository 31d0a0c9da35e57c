// Real etcd clusters for the cluster tests: 1 or 3 members of the installed `etcd` binary on
// 127.0.0.1 with free ports, data under a temp dir, auto-compaction on, bounded waits for
// health, stopped by PID. Also the process helpers the fault scenarios need: kill -9 one
// member (and restart it on its data dir), SIGSTOP/SIGCONT a process group.
//
// Never leaves a process behind: every member is tracked and `stopAllEtcd()` (afterAll)
// kills what is left even when a test failed. Never binds anything but 127.0.0.1.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../crash/child-node.js";

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  proc: ChildProcess | null;
  /** Everything the member wrote (tail), for failure messages. */
  output(): string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Client URLs of every member, comma-separated (the node's --cluster-etcd). */
  endpoints: string[];
  dir: string;
  /** kill -9 one member and wait until its process is gone. */
  killMember(i: number): Promise<void>;
  /** Start a killed member again on its data dir and wait for its health. */
  restartMember(i: number): Promise<void>;
  stop(): Promise<void>;
}

/** Path of the etcd binary, or null when it is not installed. */
export function etcdBinary(): string | null {
  const r = spawnSync("sh", ["-c", "command -v etcd"], { encoding: "utf8" });
  const p = r.stdout.trim();
  return r.status === 0 && p.length > 0 ? p : null;
}

const live = new Set<ChildProcess>();

export interface StartEtcdOptions {
  members: 1 | 3;
  /** Raft tick (ms) and election timeout (ms): short on loopback so failover tests stay fast. */
  heartbeat_ms?: number;
  election_ms?: number;
  timeout_ms?: number;
}

/** Start a fresh etcd cluster and wait until every member reports healthy. */
export async function startEtcd(opts: StartEtcdOptions): Promise<EtcdCluster> {
  const bin = etcdBinary();
  if (bin === null) throw new Error("etcd is not installed (apt-get install etcd-server etcd-client)");
  const dir = mkdtempSync(join(tmpdir(), "perpchain-etcd-"));
  const members: EtcdMember[] = [];
  for (let i = 0; i < opts.members; i++) {
    const name = `e${i}`;
    members.push({ name, clientUrl: `http://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, dataDir: join(dir, name), proc: null, output: () => "" });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const spawnMember = (m: EtcdMember, state: "new" | "existing"): void => {
    const args = [
      "--name", m.name,
      "--data-dir", m.dataDir,
      "--listen-client-urls", m.clientUrl,
      "--advertise-client-urls", m.clientUrl,
      "--listen-peer-urls", m.peerUrl,
      "--initial-advertise-peer-urls", m.peerUrl,
      "--initial-cluster", initialCluster,
      "--initial-cluster-state", state,
      "--initial-cluster-token", "perpchain-test",
      "--heartbeat-interval", String(opts.heartbeat_ms ?? 50),
      "--election-timeout", String(opts.election_ms ?? 500),
      // A member restarted after a kill must not force an election when it rejoins (etcd 3.4
      // defaults to off; 3.5 to on): without it, a rejoin on a loaded machine could stall etcd
      // past 60 % of the perpchain leader's lease and move the leadership mid-scenario.
      "--pre-vote",
      "--auto-compaction-mode", "revision",
      "--auto-compaction-retention", "1000",
      "--logger", "zap",
      "--log-level", "error",
    ];
    const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-8_000);
    };
    proc.stdout!.on("data", keep);
    proc.stderr!.on("data", keep);
    live.add(proc);
    proc.once("exit", () => live.delete(proc));
    m.proc = proc;
    m.output = () => out;
  };
  for (const m of members) spawnMember(m, "new");
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.clientUrl),
    dir,
    async killMember(i) {
      const m = members[i]!;
      if (m.proc) await killAndWait(m.proc, "SIGKILL");
      m.proc = null;
    },
    async restartMember(i) {
      const m = members[i]!;
      if (m.proc) throw new Error(`etcd member ${m.name} is running`);
      spawnMember(m, "existing");
      await waitHealthy([m], opts.timeout_ms ?? 15_000);
    },
    async stop() {
      for (const m of members) if (m.proc) await killAndWait(m.proc, "SIGTERM");
      for (const m of members) m.proc = null;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitHealthy(members, opts.timeout_ms ?? 15_000);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** Poll each member's /health until it answers {"health":"true"} (bounded). */
async function waitHealthy(members: EtcdMember[], timeout_ms: number): Promise<void> {
  const deadline = performance.now() + timeout_ms;
  for (const m of members) {
    for (;;) {
      if (m.proc === null || m.proc.exitCode !== null) throw new Error(`etcd member ${m.name} exited during start-up:\n${m.output()}`);
      const ok = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1_000) })
        .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === "true")
        .catch(() => false);
      if (ok) break;
      if (performance.now() > deadline) throw new Error(`etcd member ${m.name} not healthy within ${timeout_ms} ms:\n${m.output()}`);
      await sleep(50);
    }
  }
}

/** Send `signal` and wait for the process to exit (SIGKILL after 5 s if it ignores SIGTERM). */
export async function killAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  proc.kill(signal);
  const t = setTimeout(() => proc.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(t);
}

/** Kill every etcd member still running (afterAll, also after a failed test). */
export async function stopAllEtcd(): Promise<void> {
  await Promise.all([...live].map((p) => killAndWait(p, "SIGKILL")));
}

/** Freeze / thaw a process group (a child started with `detached: true` leads its own group). */
export function pauseGroup(pid: number): void {
  process.kill(-pid, "SIGSTOP");
}
export function resumeGroup(pid: number): void {
  process.kill(-pid, "SIGCONT");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
