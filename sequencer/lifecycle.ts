// Node lifecycle (DESIGN §8): starting → recovering → catching-up → ready → draining.
// Nothing is produced (no block, no market-data write) before `ready`; transitions only
// go forward, except that a stopped node is gone for good.

import { NodeNotReadyError } from "./errors.js";

export type LifecycleState = "starting" | "recovering" | "catching-up" | "ready" | "draining" | "stopped";

const ORDER: LifecycleState[] = ["starting", "recovering", "catching-up", "ready", "draining", "stopped"];

export class Lifecycle {
  private current: LifecycleState = "starting";
  private readonly listeners: Array<(s: LifecycleState) => void> = [];

  get state(): LifecycleState {
    return this.current;
  }

  get isReady(): boolean {
    return this.current === "ready";
  }

  /** Move forward to `next`; moving backwards is a bug and throws. */
  advance(next: LifecycleState): void {
    if (ORDER.indexOf(next) < ORDER.indexOf(this.current)) throw new Error(`lifecycle cannot go from ${this.current} back to ${next}`);
    this.current = next;
    for (const l of this.listeners) l(next);
  }

  onChange(f: (s: LifecycleState) => void): void {
    this.listeners.push(f);
  }

  /** Throw the RPC's "not ready" error unless the node is ready. */
  assertReady(_what: string): void {
    if (this.current !== "ready") throw new NodeNotReadyError(this.current);
  }
}
