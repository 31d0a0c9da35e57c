// Native classes known to this node, by class hash. Passed explicitly to the executor
// (no global registry), so a test or a node decides exactly which classes exist.

import { type Felt, toHex } from "../../state/felt.js";
import type { ContractClass } from "./contract-class.js";

export class ClassRegistry {
  private readonly byHash = new Map<Felt, ContractClass>();

  constructor(classes: readonly ContractClass[] = []) {
    for (const c of classes) this.register(c);
  }

  register(c: ContractClass): void {
    const existing = this.byHash.get(c.classHash);
    if (existing && existing !== c) throw new Error(`class hash collision ${toHex(c.classHash)}: ${existing.name} vs ${c.name}`);
    this.byHash.set(c.classHash, c);
  }

  get(classHash: Felt): ContractClass | undefined {
    return this.byHash.get(classHash);
  }

  all(): ContractClass[] {
    return [...this.byHash.values()];
  }
}
