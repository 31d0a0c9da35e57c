// In-process cluster members for the cluster tests: one etcd (started before the file's tests,
// stopped after them with every devnet started through `member`), devnets joined to it with a
// 2 s lease, and a bounded wait. Used by tests that need real etcd but not separate processes.
// Never binds anything but 127.0.0.1; never leaves an etcd member or a devnet running.

import { afterAll, beforeAll } from "vitest";
import { startDevnet, type Devnet, type DevnetOptions } from "../../sequencer/devnet.js";
import { sleep, startEtcd, stopAllEtcd, type EtcdCluster } from "./etcd.js";

export interface InProcessCluster {
  /** The etcd cluster (available once the file's beforeAll ran). */
  etcd(): EtcdCluster;
  /** The devnets `member` started, in order. */
  started(): readonly Devnet[];
  /** A devnet joined to the cluster as `nodeId` (in memory, no trigger engine, 2 s lease unless `cluster` says otherwise). */
  member(nodeId: string, options: DevnetOptions, cluster?: { retentionBlocks?: number }): Promise<Devnet>;
}

/** Registers the file's beforeAll/afterAll: call it at the top level of a test file. */
export function inProcessCluster(members: 1 | 3 = 1): InProcessCluster {
  let etcd: EtcdCluster | undefined;
  const devnets: Devnet[] = [];
  beforeAll(async () => {
    etcd = await startEtcd({ members });
  });
  afterAll(async () => {
    for (const d of devnets.reverse()) await d.stop().catch(() => {});
    await etcd?.stop();
    await stopAllEtcd();
  });
  return {
    etcd: () => etcd!,
    started: () => devnets,
    async member(nodeId, options, cluster = {}) {
      const d = await startDevnet({ inMemory: true, triggerEngine: false, ...options, cluster: { etcd: etcd!.endpoints, nodeId, leaseTtlS: 2, ...cluster } });
      devnets.push(d);
      return d;
    },
  };
}

/** Wait until `f` holds, polling every 25 ms; throws naming `what` after `timeout_ms`. */
export async function until(what: string, f: () => boolean | Promise<boolean>, timeout_ms: number): Promise<void> {
  const end = performance.now() + timeout_ms;
  while (!(await f())) {
    if (performance.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}
