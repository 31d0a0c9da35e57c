// One etcd lease kept alive by this process: granted with a TTL, renewed every TTL/6 with a
// bounded keepalive call (again 100 ms after a failed one, so an etcd member failing over
// costs one quick retry, not the lease), and judged by the time of the last renewal that
// etcd confirmed.
//
// The self-fence: etcd extends a lease from the moment it *receives* a keepalive, which is
// after we sent it, so the lease lives at least until `sentAt + ttl`. The holder must stop
// acting on it well before that: `fresh()` is false once `fenceFraction × ttl` has passed
// since the last confirmed renewal was sent (default 0.6), whatever the reason (etcd slow,
// process frozen by SIGSTOP or a long GC pause). Time comes from an injected monotonic clock.
//
// Never retries a lost lease: once etcd says it is gone (TTL 0) or our view says it must be,
// the keeper reports `lost` and the owner grants a new one.

import type { Namespace } from "etcd3";
import { withDeadline } from "./etcd-deadline.js";

export interface LeaseKeeperOptions {
  ttl_s: number;
  deadline_ms: number;
  /** Fraction of the TTL after the last confirmed renewal past which the holder must not act. */
  fenceFraction?: number;
  /** Monotonic clock in ms. */
  now?: () => number;
  onLost?: (reason: string) => void;
}

export class LeaseKeeper {
  private lastRenewSentAt: number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lostReason: string | null = null;
  private readonly now: () => number;
  private readonly fenceFraction: number;

  private constructor(
    private readonly client: Namespace,
    readonly id: string,
    grantSentAt: number,
    private readonly opts: LeaseKeeperOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.fenceFraction = opts.fenceFraction ?? 0.6;
    this.lastRenewSentAt = grantSentAt;
  }

  /** Grant a lease and start keeping it alive. */
  static async grant(client: Namespace, opts: LeaseKeeperOptions): Promise<LeaseKeeper> {
    if (!Number.isInteger(opts.ttl_s) || opts.ttl_s < 1) throw new RangeError(`lease TTL must be a whole number of seconds ≥ 1, got ${opts.ttl_s}`);
    const now = opts.now ?? (() => performance.now());
    const sentAt = now();
    const res = await withDeadline("lease grant", opts.deadline_ms, (o) => client.leaseClient.leaseGrant({ TTL: opts.ttl_s, ID: 0 }, o));
    const keeper = new LeaseKeeper(client, res.ID, sentAt, opts);
    keeper.schedule();
    return keeper;
  }

  get ttl_s(): number {
    return this.opts.ttl_s;
  }

  /** True while the holder may still act on the lease (see the self-fence above). */
  fresh(): boolean {
    return this.lostReason === null && !this.stopped && this.now() - this.lastRenewSentAt < this.opts.ttl_s * 1000 * this.fenceFraction;
  }

  /** Ms left before `fresh()` turns false (≤ 0 when it already is). */
  freshForMs(): number {
    if (this.lostReason !== null || this.stopped) return 0;
    return this.lastRenewSentAt + this.opts.ttl_s * 1000 * this.fenceFraction - this.now();
  }

  get lost(): string | null {
    return this.lostReason;
  }

  /** Stop renewing and delete the lease (and every key bound to it) now. */
  async revoke(): Promise<void> {
    this.halt();
    await withDeadline("lease revoke", this.opts.deadline_ms, (o) => this.client.leaseClient.leaseRevoke({ ID: this.id }, o)).catch((e: Error) => {
      // An unknown lease is already gone: that is what we wanted.
      if (!/lease not found/i.test(e.message)) throw e;
    });
  }

  /** Stop renewing; the lease expires by itself after its TTL. */
  release(): void {
    this.halt();
  }

  private halt(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(afterFailure = false): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.renew(), afterFailure ? 100 : Math.max(100, (this.opts.ttl_s * 1000) / 6));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const sentAt = this.now();
    try {
      // A keepalive stuck on a dead member must not hold up the next one for long.
      const deadline_ms = Math.min(this.opts.deadline_ms, this.opts.ttl_s * 250);
      const ttl = await withDeadline("lease keepalive", deadline_ms, (o) => this.keepaliveOnce(o));
      if (this.stopped) return;
      if (ttl <= 0) return this.markLost("etcd reports the lease expired");
      this.lastRenewSentAt = sentAt;
    } catch {
      // Missed renewal: fresh() runs out on its own; the lease is certainly gone once a whole
      // TTL has passed since the last confirmed renewal.
      if (this.now() - this.lastRenewSentAt >= this.opts.ttl_s * 1000) return this.markLost("no keepalive confirmed for a whole TTL");
      return this.schedule(true);
    }
    this.schedule();
  }

  /** One keepalive on its own short stream: resolves with the TTL etcd granted (0 = lease gone). */
  private async keepaliveOnce(options: { deadline: Date }): Promise<number> {
    const stream = await this.client.leaseClient.leaseKeepAlive(options);
    try {
      return await new Promise<number>((resolve, reject) => {
        stream.on("data", (res: { TTL: string }) => resolve(Number(res.TTL)));
        stream.on("error", reject);
        stream.on("end", () => reject(new Error("keepalive stream ended")));
        stream.write({ ID: this.id });
      });
    } finally {
      stream.end();
    }
  }

  private markLost(reason: string): void {
    if (this.lostReason !== null) return;
    this.lostReason = reason;
    this.halt();
    this.opts.onLost?.(reason);
  }
}
