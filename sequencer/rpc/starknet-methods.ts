// The starknet_* methods (read, write, trace) of RPC 0.10.3, implemented over the node.
// Handlers parse params with params.ts, throw errors from errors.ts, return spec JSON.

import { computeFee, GAS } from "../../contracts/runtime/gas.js";
import { callView, estimateTransaction, executeTransaction, type ExecutableTransaction, type TransactionExecution } from "../../contracts/runtime/transaction-executor.js";
import { toHex, type Felt } from "../../state/felt.js";
import { buildStorageProof } from "../../state/storage-proof.js";
import { deployAccountAddress } from "../../state/tx-hash.js";
import type { StateReader } from "../../state/state-diff.js";
import type { BlockRecord, TxRecord } from "../chain-store.js";
import {
  BlockNotFoundError,
  ClassHashNotFoundError,
  ContractNotFoundError,
  InvalidContinuationTokenError,
  InvalidTxnIndexError,
  NoTraceAvailableError,
  NotSupportedError,
  PageSizeTooBigError,
  RpcError,
  TransactionExecutionError,
  TxnHashNotFoundError,
} from "../errors.js";
import type { PerpchainNode } from "../node.js";
import { PendingState } from "../pending-state.js";
import { stateDiffJson, traceJson } from "../rpc-json.js";
import { intake } from "../tx-intake.js";
import {
  parseAddressParam,
  parseBlockId,
  parseBroadcastedDeclareTxn,
  parseBroadcastedDeployAccountTxn,
  parseBroadcastedInvokeTxn,
  parseBroadcastedTxnList,
  parseConfirmedBlockId,
  parseEstimateFeeFlags,
  parseEventFilter,
  parseFeltParam,
  parseFunctionCall,
  parseNonNegativeInteger,
  parseSimulationFlags,
  parseStorageKey,
  parseStorageProofRequest,
  type BlockId,
} from "./params.js";
import type { HandlerRegistry } from "./registry.js";

export const SPEC_VERSION = "0.10.3";
const MAX_EVENTS_CHUNK = 1024;

export function registerStarknetMethods(registry: HandlerRegistry, node: PerpchainNode): void {
  const m = new StarknetMethods(node);
  const r = (name: string, f: (p: Record<string, unknown>) => unknown) => registry.register(name, (p) => f(p));
  r("starknet_specVersion", () => SPEC_VERSION);
  r("starknet_chainId", () => toHex(node.chainId));
  r("starknet_syncing", () => false);
  r("starknet_blockNumber", () => node.headNumber());
  r("starknet_blockHashAndNumber", async () => {
    const b = await m.block(node.headNumber());
    return { block_hash: b.header.block_hash, block_number: b.header.block_number };
  });
  r("starknet_getBlockWithTxHashes", (p) => m.getBlock(p.block_id, "hashes"));
  r("starknet_getBlockWithTxs", (p) => m.getBlock(p.block_id, "txs"));
  r("starknet_getBlockWithReceipts", (p) => m.getBlock(p.block_id, "receipts"));
  r("starknet_getBlockTransactionCount", async (p) => {
    const id = parseBlockId(p.block_id);
    if (id.kind === "tag" && id.tag === "pre_confirmed") return 0;
    return (await m.block(await m.resolve(id))).txHashes.length;
  });
  r("starknet_getStateUpdate", (p) => m.getStateUpdate(p.block_id));
  r("starknet_getStorageAt", async (p) => {
    const addr = parseAddressParam(p.contract_address, "contract_address");
    const key = parseStorageKey(p.key, "key");
    const state = await m.stateFor(parseBlockId(p.block_id));
    if (state.getClassHash(addr) === 0n) throw new ContractNotFoundError();
    return toHex(state.getStorage(addr, key));
  });
  r("starknet_getNonce", async (p) => {
    const addr = parseAddressParam(p.contract_address, "contract_address");
    const state = await m.stateFor(parseBlockId(p.block_id));
    if (state.getClassHash(addr) === 0n) throw new ContractNotFoundError();
    return toHex(state.getNonce(addr));
  });
  r("starknet_getClassHashAt", async (p) => {
    const addr = parseAddressParam(p.contract_address, "contract_address");
    const c = (await m.stateFor(parseBlockId(p.block_id))).getClassHash(addr);
    if (c === 0n) throw new ContractNotFoundError();
    return toHex(c);
  });
  r("starknet_getClassAt", async (p) => {
    const addr = parseAddressParam(p.contract_address, "contract_address");
    const c = (await m.stateFor(parseBlockId(p.block_id))).getClassHash(addr);
    if (c === 0n) throw new ContractNotFoundError();
    return m.classJson(c);
  });
  r("starknet_getClass", async (p) => {
    const c = parseFeltParam(p.class_hash, "class_hash");
    const state = await m.stateFor(parseBlockId(p.block_id));
    if (state.getCompiledClassHash(c) === 0n) throw new ClassHashNotFoundError();
    return m.classJson(c);
  });
  r("starknet_getTransactionByHash", async (p) => (await m.tx(parseFeltParam(p.transaction_hash, "transaction_hash"))).transaction);
  r("starknet_getTransactionByBlockIdAndIndex", async (p) => {
    const id = parseBlockId(p.block_id);
    const index = parseNonNegativeInteger(p.index, "index");
    if (id.kind === "tag" && id.tag === "pre_confirmed") throw new InvalidTxnIndexError();
    const b = await m.block(await m.resolve(id));
    const h = b.txHashes[index];
    if (h === undefined) throw new InvalidTxnIndexError();
    return (await m.tx(BigInt(h))).transaction;
  });
  r("starknet_getTransactionReceipt", (p) => m.getReceipt(parseFeltParam(p.transaction_hash, "transaction_hash")));
  r("starknet_getTransactionStatus", (p) => m.getStatus(parseFeltParam(p.transaction_hash, "transaction_hash")));
  r("starknet_getMessagesStatus", () => {
    throw new NotSupportedError("this appchain has no L1 messaging");
  });
  r("starknet_estimateMessageFee", () => {
    throw new NotSupportedError("this appchain has no L1 messaging");
  });
  r("starknet_call", async (p) => {
    const call = parseFunctionCall(p.request, "request");
    const { state, number } = await m.stateAndNumber(parseBlockId(p.block_id));
    if (state.getClassHash(call.contractAddress) === 0n) throw new ContractNotFoundError();
    return callView(state, node.registry, { contractAddress: call.contractAddress, entryPointSelector: call.entryPointSelector, calldata: call.calldata }, m.ctx(number)).map(toHex);
  });
  r("starknet_estimateFee", async (p) => {
    const txs = parseBroadcastedTxnList(p.request, "request");
    const flags = parseEstimateFeeFlags(p.simulation_flags ?? []);
    const sims = await m.simulate(parseBlockId(p.block_id), txs, { skipValidate: flags.includes("SKIP_VALIDATE"), chargeFee: false, failOnRevert: true });
    return sims.map((s) => m.feeEstimate(s.exec, s.validationAllowance, s.tx.exec.tip));
  });
  r("starknet_simulateTransactions", async (p) => {
    const txs = parseBroadcastedTxnList(p.transactions, "transactions");
    const flags = parseSimulationFlags(p.simulation_flags ?? []);
    const sims = await m.simulate(parseBlockId(p.block_id), txs, {
      skipValidate: flags.includes("SKIP_VALIDATE"),
      chargeFee: !flags.includes("SKIP_FEE_CHARGE"),
      failOnRevert: false,
    });
    return sims.map((s) => ({ transaction_trace: traceJson(s.tx.exec.type, s.exec), fee_estimation: m.feeEstimate(s.exec, s.validationAllowance, s.tx.exec.tip) }));
  });
  r("starknet_traceTransaction", async (p) => {
    const h = parseFeltParam(p.transaction_hash, "transaction_hash");
    const rec = await node.chain.getTx(h);
    if (rec === undefined) {
      if (node.mempool.has(h)) throw new NoTraceAvailableError("RECEIVED");
      throw new TxnHashNotFoundError();
    }
    return rec.trace;
  });
  r("starknet_traceBlockTransactions", async (p) => {
    const id = parseConfirmedBlockId(p.block_id);
    const txs = await m.blockTxs(await m.block(await m.resolve(id)));
    return txs.map((t) => ({ transaction_hash: t.transaction.transaction_hash, trace_root: t.trace }));
  });
  r("starknet_getEvents", (p) => m.getEvents(p.filter));
  r("starknet_getStorageProof", async (p) => {
    const req = parseStorageProofRequest(p);
    const id = parseConfirmedBlockId(p.block_id);
    const n = await m.resolve(id);
    const src = await node.world.proofSource(n);
    const blockHash = BigInt((await m.block(n)).header.block_hash);
    return buildStorageProof(
      { ...src, blockHash },
      {
        classHashes: req.classHashes,
        contractAddresses: req.contractAddresses,
        contractsStorageKeys: req.contractsStorageKeys.map((c) => ({ contractAddress: c.contractAddress, storageKeys: c.storageKeys })),
      },
    );
  });
  r("starknet_addInvokeTransaction", async (p) => {
    const tx = parseBroadcastedInvokeTxn(p.invoke_transaction);
    const hash = await node.submit(tx);
    return { transaction_hash: toHex(hash) };
  });
  // DECLARE is checked to be one, then refused: 62, perpchain runs native contracts, not Cairo classes.
  r("starknet_addDeclareTransaction", (p) => parseBroadcastedDeclareTxn(p.declare_transaction));
  r("starknet_addDeployAccountTransaction", async (p) => {
    const tx = parseBroadcastedDeployAccountTxn(p.deploy_account_transaction);
    const hash = await node.submit(tx);
    return { transaction_hash: toHex(hash), contract_address: toHex(deployAccountAddress(tx)) };
  });
}

/** The number of the block `id` names on this node's chain; BLOCK_NOT_FOUND when there is none. */
export async function resolveBlockNumber(node: PerpchainNode, id: BlockId): Promise<number> {
  if (id.kind === "tag") {
    if (id.tag === "l1_accepted") throw new BlockNotFoundError("no block is accepted on L1 on this appchain");
    return node.headNumber();
  }
  if (id.kind === "number") {
    if (id.number > node.headNumber()) throw new BlockNotFoundError();
    return id.number;
  }
  const n = await node.chain.getBlockNumberByHash(id.hash);
  if (n === undefined) throw new BlockNotFoundError();
  return n;
}

class StarknetMethods {
  constructor(private readonly node: PerpchainNode) {}

  resolve(id: BlockId): Promise<number> {
    return resolveBlockNumber(this.node, id);
  }

  async block(n: number): Promise<BlockRecord> {
    const b = await this.node.chain.getBlock(n);
    if (b === undefined) throw new BlockNotFoundError();
    return b;
  }

  /**
   * The transactions of block `b`. A rollback (or devnet_restart/load) may remove them between
   * reading the block and reading them: that is BLOCK_NOT_FOUND, as if the block had been asked
   * for a moment later; a transaction missing from a block that is still there is a real fault.
   */
  async blockTxs(b: BlockRecord): Promise<TxRecord[]> {
    try {
      return await this.node.chain.getTxs(b.txHashes);
    } catch (e) {
      const now = await this.node.chain.getBlock(b.header.block_number).catch(() => undefined);
      if (now?.header.block_hash !== b.header.block_hash) throw new BlockNotFoundError("the block was removed by a rollback while it was read");
      throw e;
    }
  }

  async tx(h: Felt): Promise<TxRecord> {
    const t = await this.node.chain.getTx(h);
    if (t !== undefined) return t;
    const pending = this.node.mempool.get(h);
    if (pending) return { transaction: pending.payload.tx.json } as TxRecord;
    throw new TxnHashNotFoundError();
  }

  async stateAndNumber(id: BlockId): Promise<{ state: StateReader; number: number }> {
    const number = await this.resolve(id);
    return { state: await this.node.stateAt(number), number };
  }

  async stateFor(id: BlockId): Promise<StateReader> {
    return (await this.stateAndNumber(id)).state;
  }

  ctx(number: number) {
    const head = this.node.headNumber();
    return this.node.blockContext(number === head ? head + 1 : number, this.node.nowS());
  }

  classJson(classHash: Felt): unknown {
    const c = this.node.registry.get(classHash);
    if (c === undefined) throw new ClassHashNotFoundError();
    return c.sierraClass;
  }

  async getBlock(rawId: unknown, kind: "hashes" | "txs" | "receipts"): Promise<unknown> {
    const id = parseBlockId(rawId);
    if (id.kind === "tag" && id.tag === "pre_confirmed") {
      const ctx = this.node.blockContext(this.node.headNumber() + 1, this.node.nowS());
      const p = (x: bigint) => ({ price_in_fri: toHex(x), price_in_wei: toHex(x) });
      return {
        block_number: this.node.headNumber() + 1,
        timestamp: Number(ctx.blockTimestamp),
        sequencer_address: toHex(ctx.sequencerAddress),
        l1_gas_price: p(ctx.gasPrices.l1_gas),
        l2_gas_price: p(ctx.gasPrices.l2_gas),
        l1_data_gas_price: p(ctx.gasPrices.l1_data_gas),
        l1_da_mode: "BLOB",
        starknet_version: (await this.block(this.node.headNumber())).header.starknet_version,
        transactions: [],
      };
    }
    const b = await this.block(await this.resolve(id));
    const base = { status: "ACCEPTED_ON_L2", ...b.header };
    if (kind === "hashes") return { ...base, transactions: b.txHashes };
    const txs = await this.blockTxs(b);
    if (kind === "txs") return { ...base, transactions: txs.map((t) => t.transaction) };
    return { ...base, transactions: txs.map((t) => ({ transaction: t.transaction, receipt: t.receipt })) };
  }

  async getStateUpdate(rawId: unknown): Promise<unknown> {
    const id = parseBlockId(rawId);
    if (id.kind === "tag" && id.tag === "pre_confirmed") {
      return { old_root: (await this.block(this.node.headNumber())).header.new_root, state_diff: stateDiffJson({ storage: new Map(), nonces: new Map(), deployed: new Map(), declared: new Map() }) };
    }
    const b = await this.block(await this.resolve(id));
    return { block_hash: b.header.block_hash, old_root: b.oldRoot, new_root: b.header.new_root, state_diff: b.stateDiff };
  }

  async getReceipt(h: Felt): Promise<unknown> {
    const t = await this.node.chain.getTx(h);
    if (t === undefined) throw new TxnHashNotFoundError();
    const b = await this.block(t.blockNumber);
    return { ...t.receipt, block_hash: b.header.block_hash, block_number: b.header.block_number };
  }

  async getStatus(h: Felt): Promise<unknown> {
    const status = await this.node.transactionStatus(h);
    if (status === undefined) throw new TxnHashNotFoundError();
    return status;
  }

  async simulate(
    id: BlockId,
    txs: ReturnType<typeof parseBroadcastedTxnList>,
    opts: { skipValidate: boolean; chargeFee: boolean; failOnRevert: boolean },
  ): Promise<Array<{ tx: ReturnType<typeof intake>; exec: TransactionExecution; validationAllowance: bigint }>> {
    const { state, number } = await this.stateAndNumber(id);
    const pending = new PendingState(state);
    const ctx = this.ctx(number);
    const out: Array<{ tx: ReturnType<typeof intake>; exec: TransactionExecution; validationAllowance: bigint }> = [];
    txs.forEach((raw, i) => {
      const tx = intake(raw, this.node.chainId);
      // An impersonated sender's transaction runs without __validate__, here as in its block.
      const skipValidate = opts.skipValidate || this.node.isImpersonated(tx.sender);
      let exec: TransactionExecution;
      try {
        exec = opts.chargeFee
          ? executeTransaction(pending, this.node.registry, ctx, tx.exec, { skipValidate, chargeFee: true })
          : estimateTransaction(pending, this.node.registry, ctx, tx.exec, { skipValidate });
      } catch (e) {
        if (e instanceof RpcError) throw new TransactionExecutionError(i, e.message);
        throw e;
      }
      if (opts.failOnRevert && exec.status === "REVERTED") throw new TransactionExecutionError(i, exec.revertReason ?? "reverted");
      pending.apply(exec.stateDiff);
      out.push({ tx, exec, validationAllowance: opts.skipValidate ? validationAllowance(tx.exec) : 0n });
    });
    return out;
  }

  /** FEE_ESTIMATE; `extraL2Gas` is the validation allowance of a SKIP_VALIDATE estimate. */
  feeEstimate(exec: TransactionExecution, extraL2Gas = 0n, tip = 0n): unknown {
    const g = this.node.gasPrices;
    const gas = { ...exec.gas, l2_gas: exec.gas.l2_gas + extraL2Gas };
    return {
      l1_gas_consumed: toHex(gas.l1_gas),
      l1_gas_price: toHex(g.l1_gas),
      l2_gas_consumed: toHex(gas.l2_gas),
      l2_gas_price: toHex(g.l2_gas),
      l1_data_gas_consumed: toHex(gas.l1_data_gas),
      l1_data_gas_price: toHex(g.l1_data_gas),
      // the allowance priced like the rest of the tx's L2 gas (same price and tip)
      overall_fee: toHex(exec.actualFee + (extraL2Gas === 0n ? 0n : computeFee({ l1_gas: 0n, l1_data_gas: 0n, l2_gas: extraL2Gas }, g, tip))),
      unit: "FRI",
    };
  }

  async getEvents(raw: unknown): Promise<unknown> {
    const f = parseEventFilter(raw, "filter");
    if (f.chunkSize > MAX_EVENTS_CHUNK) throw new PageSizeTooBigError();
    const head = this.node.headNumber();
    const from = f.fromBlock ? await this.resolveRangeEnd(f.fromBlock) : 0;
    const to = f.toBlock ? await this.resolveRangeEnd(f.toBlock) : head;
    let continuation: { block: number; tx: number; event: number } | undefined;
    if (f.continuationToken !== undefined) {
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(f.continuationToken);
      if (!m) throw new InvalidContinuationTokenError();
      continuation = { block: Number(m[1]), tx: Number(m[2]), event: Number(m[3]) };
      if (continuation.block < from || continuation.block > to) throw new InvalidContinuationTokenError();
    }
    const page = await this.node.chain.getEvents({
      fromBlock: from,
      toBlock: Math.min(to, head),
      address: f.addresses,
      keys: f.keys,
      chunkSize: f.chunkSize,
      continuation,
    });
    const out: Record<string, unknown> = { events: page.events };
    if (page.continuation) out.continuation_token = `${page.continuation.block}-${page.continuation.tx}-${page.continuation.event}`;
    return out;
  }

  /** A getEvents range end: a number past the head is allowed (the range just ends at the head). */
  private async resolveRangeEnd(id: BlockId): Promise<number> {
    if (id.kind === "tag" && id.tag === "pre_confirmed") return this.node.headNumber();
    if (id.kind === "number" && id.number > this.node.headNumber()) return id.number;
    return this.resolve(id);
  }
}

/**
 * L2 gas a SKIP_VALIDATE estimate leaves out: what the predeployed SNIP-6 account's
 * validation costs with a [r, s] signature (the entry point call with its calldata, the
 * public-key read, the tx-info syscall, one ECDSA verify, and the signature felts a query
 * usually omits). Clients (starknet.js) estimate with SKIP_VALIDATE and an empty signature,
 * then use the estimate as the bounds of the signed transaction; without this allowance
 * such a transaction runs out of gas, since signature verification is a large part of a
 * transfer's cost in our schedule.
 */
export function validationAllowance(tx: ExecutableTransaction): bigint {
  const validateCalldata = tx.type === "INVOKE" ? tx.calldata.length : 2 + tx.constructorCalldata.length;
  const missingSignatureFelts = BigInt(Math.max(0, 2 - tx.signature.length));
  return GAS.CALL + GAS.CALL_CALLDATA_FELT * BigInt(validateCalldata) + GAS.STORAGE_READ + GAS.SYSCALL_INFO + GAS.ECDSA_VERIFY + GAS.TX_CALLDATA_FELT * missingSignatureFelts;
}
