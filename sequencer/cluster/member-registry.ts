// The member registry: every node of the cluster publishes who it is (node id, RPC URL),
// its role and the height it has applied, under members/<nodeId>, bound to a lease of its
// own, so a dead node disappears from the list within one TTL. The leader reads it to pick
// the retention floor and to hand over to the most caught-up follower; every node reads it
// for appchain_getClusterStatus.
//
// Never decides anything: it publishes and lists. A lost lease is re-granted on the next
// publish.

import { ClusterUnavailableError } from "../errors.js";
import { MEMBERS_PREFIX, memberKey } from "./cluster-keys.js";
import { decodeMemberRecord, encodeRecord, type MemberRecord } from "./cluster-records.js";
import type { ClusterCoordinator } from "./coordinator.js";
import type { LeaseKeeper } from "./lease-keeper.js";

export class MemberRegistry {
  private lease: LeaseKeeper | null = null;
  private last: MemberRecord | null = null;
  private publishing: Promise<void> = Promise.resolve();

  constructor(private readonly coordinator: ClusterCoordinator) {}

  /** Publish (or refresh) this node's record; serialized, so records never go backwards. */
  publish(record: Omit<MemberRecord, "node_id" | "rpc_url">): Promise<void> {
    const full: MemberRecord = { node_id: this.coordinator.nodeId, rpc_url: this.coordinator.rpcUrl, ...record };
    const run = this.publishing.then(() => this.put(full));
    this.publishing = run.catch(() => {});
    return run;
  }

  private async put(record: MemberRecord): Promise<void> {
    if (this.lease === null || this.lease.lost !== null) {
      this.lease = await this.coordinator.grantLease(() => {});
    }
    const lease = this.lease;
    const ns = this.coordinator.ns;
    await this.coordinator.call("member publish", (o) => ns.put(memberKey(record.node_id)).value(encodeRecord(record)).lease(lease.id).options(o).exec()).catch((e: Error) => {
      // The lease vanished under us (expired while etcd was away): grant a new one next time.
      if (/lease not found/i.test(e.message)) this.lease = null;
      throw e instanceof ClusterUnavailableError ? e : new ClusterUnavailableError(e.message);
    });
    this.last = record;
  }

  /** The record this node last published. */
  get self(): MemberRecord | null {
    return this.last;
  }

  /** Every live member, ordered by node id. */
  async list(): Promise<MemberRecord[]> {
    const ns = this.coordinator.ns;
    const res = await this.coordinator.call("members read", (o) => ns.getAll().prefix(MEMBERS_PREFIX).sort("Key", "Ascend").options(o).exec());
    return res.kvs.map((kv) => decodeMemberRecord(kv.value));
  }

  /** Remove this node's record now (clean shutdown). */
  async leave(): Promise<void> {
    await this.publishing;
    const lease = this.lease;
    this.lease = null;
    if (lease) await lease.revoke().catch(() => lease.release());
  }
}
