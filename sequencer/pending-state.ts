// The state a block is being built on: the committed state plus the diffs of the
// transactions already executed in this block. Each transaction reads it and adds its
// own diff; the merged diff is what the block commits.

import type { Felt } from "../state/felt.js";
import { emptyStateDiff, mergeStateDiff, type StateDiff, type StateReader } from "../state/state-diff.js";

export class PendingState implements StateReader {
  readonly diff: StateDiff = emptyStateDiff();

  constructor(private readonly base: StateReader) {}

  getStorage(address: Felt, key: Felt): Felt {
    const v = this.diff.storage.get(address)?.get(key);
    return v !== undefined ? v : this.base.getStorage(address, key);
  }
  getNonce(address: Felt): Felt {
    return this.diff.nonces.get(address) ?? this.base.getNonce(address);
  }
  getClassHash(address: Felt): Felt {
    return this.diff.deployed.get(address) ?? this.base.getClassHash(address);
  }
  getCompiledClassHash(classHash: Felt): Felt {
    return this.diff.declared.get(classHash) ?? this.base.getCompiledClassHash(classHash);
  }

  apply(d: StateDiff): void {
    mergeStateDiff(this.diff, d);
  }
}
