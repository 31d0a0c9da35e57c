// orphanedByDrop: which queued transactions a rollback with policy "drop" strands.
import { describe, expect, it } from "vitest";
import { orphanedByDrop } from "../../sequencer/rollback-orphans.js";

const q = (sender: bigint, nonces: bigint[]) => nonces.map((nonce) => ({ sender, nonce, tag: `${sender}:${nonce}` }));

describe("orphanedByDrop", () => {
  it("drops queued nonces of an affected sender past its rolled-back nonce", () => {
    const queued = q(1n, [9n, 10n]);
    expect(orphanedByDrop([{ sender: 1n, nonce: 5n }, { sender: 1n, nonce: 3n }], () => queued).map((e) => e.tag)).toEqual(["1:9", "1:10"]);
  });

  it("keeps a run that starts at the rolled-back nonce and drops what follows a gap", () => {
    const queued = q(1n, [4n, 3n, 7n]);
    expect(orphanedByDrop([{ sender: 1n, nonce: 3n }], () => queued).map((e) => e.tag)).toEqual(["1:7"]);
  });

  it("leaves senders without removed transactions alone", () => {
    const bySender = new Map([[1n, q(1n, [5n])], [2n, q(2n, [9n])]]);
    expect(orphanedByDrop([{ sender: 1n, nonce: 5n }], (s) => bySender.get(s) ?? [])).toEqual([]);
  });
});
