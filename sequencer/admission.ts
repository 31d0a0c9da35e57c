// Admission: the submit path of a transaction. Intake (hash), duplicate check, the block's
// own pre-check and validation (validateTransaction, the same code a block runs), then the
// write-ahead log and the queue. A transaction is acknowledged (its hash returned) only
// once it is durable, and only if a block built now would accept it; what a block refuses
// later (an earlier transaction spent the balance, a rollback) is recorded here as dropped,
// with the typed error, so its status is final instead of a silent disappearance.
//
// Never formats JSON-RPC (throws typed errors) and never builds blocks.

import type { ClassRegistry } from "../contracts/runtime/class-registry.js";
import { validateTransaction, type BlockContext } from "../contracts/runtime/transaction-executor.js";
import { toHex, type Felt } from "../state/felt.js";
import type { WorldState } from "../state/world-state.js";
import type { ChainStore } from "./chain-store.js";
import { DuplicateTxError, InvalidTransactionNonceError, NodeNotReadyError, UnsupportedTxVersionError, type RpcError } from "./errors.js";
import { AdmissionCrypto } from "./admission-crypto.js";
import type { Mempool } from "./mempool.js";
import type { BroadcastedTxn } from "./rpc/params.js";
import { intake, type IntakeTx } from "./tx-intake.js";

/** A queued transaction: its intake (whose typed broadcast is what the WAL keeps and a cluster replicates). */
export interface NodeTx {
  tx: IntakeTx;
}

/** How far past an account's last queued nonce a transaction may be (the queue is not a parking lot). */
export const MAX_NONCE_AHEAD = 64n;

export interface AdmissionDeps {
  world: WorldState;
  chain: ChainStore;
  mempool: Mempool<NodeTx>;
  registry: ClassRegistry;
  chainId: Felt;
  /** The context a block built now would have (prices, fee token). */
  nextBlockContext: () => BlockContext;
  /** Refuses submissions the node cannot take now (lifecycle, pause, stopped production). */
  assertAccepting: (opts: { operator: boolean }) => void;
  /** Devnet impersonation: true for a sender whose signature is not checked (nonce and fee are). */
  skipsValidation?: (sender: Felt) => boolean;
  dropped: DroppedTransactions;
  /** The stored public key of a sender, when its account class is known (signature prefetch; a hint). */
  publicKeyOf?: (sender: Felt) => Felt | undefined;
}

export class Admission {
  /** Hashes whose submission is between its duplicate check and its WAL write. */
  private readonly submitting = new Set<Felt>();
  /** Set when the node replaced this admission (devnet_restart / devnet_load swapped the chain). */
  private retired = false;

  readonly crypto: AdmissionCrypto;

  constructor(private readonly deps: AdmissionDeps) {
    this.crypto = new AdmissionCrypto({
      chainId: deps.chainId,
      // Impersonated senders are not validated: nothing to prefetch.
      publicKeyOf: (sender) => (deps.skipsValidation?.(sender) ? undefined : deps.publicKeyOf?.(sender)),
    });
  }

  /**
   * Check, log durably, queue. Resolves with the hash once the transaction is in the WAL;
   * throws the spec's typed error (52, 53, 54, 55, 59, 61, ...) otherwise.
   */
  async submit(parsed: BroadcastedTxn, opts: { operator?: boolean } = {}): Promise<IntakeTx> {
    const { world, chain, mempool } = this.deps;
    this.deps.assertAccepting({ operator: opts.operator ?? false });
    if (parsed.isQuery) throw new UnsupportedTxVersionError("a query transaction cannot be submitted");
    const hash = await this.crypto.hash(parsed, parsed.type === "INVOKE" ? parsed.senderAddress : undefined);
    // The node may have stopped taking transactions, or swapped its chain (and this admission
    // with it), while the hash was computed: nothing is queued on a chain that is gone.
    if (this.retired) throw new NodeNotReadyError("resetting");
    this.deps.assertAccepting({ operator: opts.operator ?? false });
    const tx = intake(parsed, this.deps.chainId, hash);
    // `submitting`: the same tx sent twice at once would otherwise pass both checks while the
    // first one's WAL write is in flight, and be logged (and acknowledged) twice.
    if (mempool.has(tx.hash) || this.submitting.has(tx.hash)) throw new DuplicateTxError();
    this.submitting.add(tx.hash);
    try {
      // An included transaction has used its nonce: only a stale nonce can be a duplicate.
      if (tx.exec.nonce < world.getNonce(tx.sender) && (await chain.getTx(tx.hash)) !== undefined) throw new DuplicateTxError();
      this.precheck(tx);
      await mempool.add({ hash: tx.hash, sender: tx.sender, nonce: tx.exec.nonce, payload: { tx } });
    } finally {
      this.submitting.delete(tx.hash);
    }
    this.deps.dropped.forget(tx.hash);
    return tx;
  }

  /** The node replaced this admission (with its world, chain and mempool): submissions still in flight are refused. */
  retire(): void {
    this.retired = true;
  }

  /** The block's pre-check and validation against the committed head, plus the queue's nonce window. */
  private precheck(tx: IntakeTx): void {
    const { world, mempool } = this.deps;
    const queuedNext = mempool.nextNonceOf(tx.sender) ?? world.getNonce(tx.sender);
    if (tx.exec.nonce > queuedNext + MAX_NONCE_AHEAD) {
      throw new InvalidTransactionNonceError(`nonce ${toHex(tx.exec.nonce)} is too far ahead of ${toHex(queuedNext)}`);
    }
    const skipValidate = this.deps.skipsValidation?.(tx.sender) ?? false;
    validateTransaction(world, this.deps.registry, this.deps.nextBlockContext(), tx.exec, { nonceRule: "not-below", skipValidate });
  }
}

/** A transaction that got a hash and then could not be included. */
export interface DroppedRecord {
  reason: string;
  /** Node clock (ms) when it was dropped. */
  at_ms: number;
}

/**
 * Recently dropped transactions, bounded (oldest forgotten first). Their status is final:
 * starknet_getTransactionStatus answers CANDIDATE + REVERTED with the reason for
 * `statusWindow_ms`, then TXN_HASH_NOT_FOUND, the sequence starknet.js's waitForTransaction
 * ends on ("Transaction fails block building validation"); a client that asks with
 * errorStates REVERTED (or fastWaitForTransaction) gets the reason at once.
 */
export class DroppedTransactions {
  private readonly byHash = new Map<Felt, DroppedRecord>();

  constructor(
    readonly statusWindow_ms = 15_000,
    private readonly capacity = 10_000,
  ) {}

  record(hash: Felt, error: RpcError | string, at_ms: number): void {
    this.byHash.delete(hash);
    this.byHash.set(hash, { reason: typeof error === "string" ? error : error.message, at_ms });
    if (this.byHash.size > this.capacity) this.byHash.delete(this.byHash.keys().next().value!);
  }

  forget(hash: Felt): void {
    this.byHash.delete(hash);
  }

  get(hash: Felt): DroppedRecord | undefined {
    return this.byHash.get(hash);
  }

  /** The record while its status is still reported (within the window). */
  reported(hash: Felt, now_ms: number): DroppedRecord | undefined {
    const r = this.byHash.get(hash);
    return r !== undefined && now_ms - r.at_ms <= this.statusWindow_ms ? r : undefined;
  }
}
