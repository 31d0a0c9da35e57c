// One devnet driven the way the rollback drill needs it: a simulated clock (never wall
// time, so a seed gives the same chain), blocks built on demand, the trigger engine's
// scan called explicitly after each market-data block, operator methods called through
// the same appchain_* handlers an operator reaches over RPC, and a record of the funding
// index of every market after every block (for the charts).
//
// Everything here asserts that setup transactions succeeded: a silently reverted
// deposit would turn the drill into a drill of something else. Events are read through
// the exchange's ABI (exchangeEvents), storage through the contracts' own readers, never
// by position or slot arithmetic.

import { EXCHANGE_ADDRESS, ORACLE_ADDRESS, type OracleVariant } from "../../contracts/exchange-genesis.js";
import { erc20 } from "../../contracts/erc20.js";
import { readOracleMarket, type OracleMarket } from "../../contracts/oracle.js";
import { ExchangeClass, exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { GENESIS_MARKETS } from "../../contracts/perp/market-config.js";
import type { EmittedEvent } from "../../contracts/runtime/journaled-state.js";
import { callView, executeTransaction } from "../../contracts/runtime/transaction-executor.js";
import { decodeEvent, decodeValue, encodeArgs } from "../../contracts/runtime/index.js";
import { decodeShortString, encodeShortString, type Felt } from "../../state/felt.js";
import type { StateReader } from "../../state/state-diff.js";
import type { BlockRecord, TxRecord } from "../chain-store.js";
import { startDevnet, type Devnet } from "../devnet.js";
import type { PerpchainNode } from "../node.js";
import { PendingState } from "../pending-state.js";
import { parseBroadcastedTxn } from "../rpc/params.js";
import type { RpcContext } from "../rpc/registry.js";
import { intake, unsignedInvokeJson } from "../tx-intake.js";

export const MARKETS = GENESIS_MARKETS.map((m) => decodeShortString(m.name));
export type MarketName = string;

/** A contract call as the account's multicall takes it. */
export type { Call } from "../tx-intake.js";
import type { Call } from "../tx-intake.js";

export interface Signer {
  address: Felt;
  privateKey: Felt;
}

export interface DrillChainOptions {
  seed: number;
  accounts: number;
  /** Simulated clock start, ms since the epoch. */
  start_ms: number;
  unsafeDisableGuards: boolean;
  oracle: OracleVariant;
  /** LevelDB directory; in memory when absent. */
  dbPath?: string;
}

/** Funding index (e6) of each market after a block. */
export interface FundingPoint {
  block: number;
  index_e6: Record<MarketName, bigint>;
}

export class DrillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DrillError";
  }
}

const LOOPBACK: RpcContext = { transport: "http", remoteAddress: "127.0.0.1", isLoopback: true };
/** USDC per account at genesis (10 M USDC), so makers can quote deep books. */
const INITIAL_USDC = 10_000_000n * 1_000_000n;

export class DrillChain {
  now_ms: number;
  readonly funding: FundingPoint[] = [];

  private constructor(
    readonly devnet: Devnet,
    start_ms: number,
    private readonly clockRef: { now_ms: number },
  ) {
    this.now_ms = start_ms;
  }

  static async start(o: DrillChainOptions): Promise<DrillChain> {
    const clockRef = { now_ms: o.start_ms };
    const devnet = await startDevnet({
      ...(o.dbPath ? { dbPath: o.dbPath } : { inMemory: true }),
      seed: o.seed,
      accounts: o.accounts,
      initialUsdc: INITIAL_USDC,
      port: 0,
      blockGeneration: { mode: "demand" },
      marketData: "push",
      unsafeDisableGuards: o.unsafeDisableGuards,
      oracle: o.oracle,
      triggerEngine: true,
      bootstrapMarketData: true,
      clock: () => clockRef.now_ms,
    });
    // The engine keeps watching deposits and TP/SL orders; the drill calls scan() itself
    // after each block, so when liquidations are submitted does not depend on timing.
    devnet.triggers.enabled = false;
    const chain = new DrillChain(devnet, o.start_ms, clockRef);
    await chain.block(); // block 1: genesis market data
    return chain;
  }

  get node(): PerpchainNode {
    return this.devnet.node;
  }

  /** Advance the simulated clock. */
  tick(seconds: number): void {
    this.clockRef.now_ms += seconds * 1000;
    this.now_ms = this.clockRef.now_ms;
  }

  nowS(): number {
    return this.node.nowS();
  }

  signer(i: number): Signer {
    const a = this.devnet.accounts[i];
    if (!a) throw new DrillError(`no predeployed account ${i}`);
    return { address: BigInt(a.address), privateKey: BigInt(a.private_key) };
  }

  /** Build a block with what is queued; records the funding index after it. */
  async block(): Promise<{ block: BlockRecord; txs: TxRecord[] }> {
    this.tick(2);
    const block = await this.node.createBlock();
    const txs = await this.node.chain.getTxs(block.txHashes);
    const index_e6: Record<string, bigint> = {};
    for (const m of MARKETS) index_e6[m] = this.oracle(m).funding_index_e6;
    this.funding.push({ block: block.header.block_number, index_e6 });
    return { block, txs };
  }

  /** Build a block and require every transaction in it to have succeeded. */
  async blockAllSucceeded(what: string): Promise<{ block: BlockRecord; txs: TxRecord[] }> {
    const b = await this.block();
    for (const t of b.txs) {
      if (t.receipt.execution_status !== "SUCCEEDED") throw new DrillError(`${what}: transaction ${t.transaction.transaction_hash} reverted: ${String(t.receipt.revert_reason)}`);
    }
    return b;
  }

  invoke(s: Signer, calls: readonly Call[]): Promise<Felt> {
    return this.node.submitSignedInvoke(s.address, s.privateKey, calls);
  }

  operator(calls: readonly Call[]): Promise<Felt> {
    return this.node.submitOperatorInvoke(calls);
  }

  /** An operator method through its appchain_* handler (as a loopback RPC client). */
  rpc<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.devnet.registry.dispatch(method, params, LOOPBACK) as Promise<T>;
  }

  /** Exchange view at the committed head. */
  view<O>(sig: { selector: Felt; inputs: object; output?: unknown }, args: Record<string, unknown>, state?: StateReader): O {
    return viewOn<O>(this.node, state ?? this.node.world, sig, args);
  }

  oracle(market: MarketName, state?: StateReader): OracleMarket {
    const s = state ?? this.node.world;
    return readOracleMarket({ readRaw: (slot: Felt) => s.getStorage(ORACLE_ADDRESS, slot), writeRaw: () => { throw new DrillError("read-only"); } }, encodeShortString(market));
  }

  usdcAddress(): Felt {
    return BigInt(this.devnet.contracts.USDC!.address);
  }

  /** USDC wallet balance (ERC20, outside the exchange). */
  usdcBalance(address: Felt, state?: StateReader): bigint {
    return viewOn<bigint>(this.node, state ?? this.node.world, erc20.balanceOf, { account: address }, this.usdcAddress());
  }

  async stop(): Promise<void> {
    await this.devnet.stop();
  }
}

/** Decode an exchange (or other contract) view against `state`. */
export function viewOn<O>(node: PerpchainNode, state: StateReader, sig: { selector: Felt; inputs: object; output?: unknown }, args: Record<string, unknown>, to: Felt = EXCHANGE_ADDRESS): O {
  const ctx = node.blockContext(node.headNumber() + 1, node.nowS());
  const out = callView(state, node.registry, { contractAddress: to, entryPointSelector: sig.selector, calldata: encodeArgs(sig.inputs as never, args as never) }, ctx);
  return (sig.output ? decodeValue(sig.output as never, out) : undefined) as O;
}

/** An event as a stored receipt (hex strings) or the executor (felts) carries it. */
export interface RawEvent {
  from_address: string | Felt;
  keys: ReadonlyArray<string | Felt>;
  data: ReadonlyArray<string | Felt>;
}

/** An exchange event decoded through the ABI the exchange declares: its members by name. */
export interface ExchangeEventValues {
  name: string;
  values: Readonly<Record<string, bigint>>;
}

/**
 * The exchange's events among `events` whose name is one of `names`, in emission order,
 * decoded through ExchangeClass's ABI (events of other contracts are skipped). The names
 * asked for must have integer members only (felts, addresses, uN, iN signed).
 */
export function exchangeEvents(events: readonly RawEvent[], ...names: string[]): ExchangeEventValues[] {
  const out: ExchangeEventValues[] = [];
  for (const e of events) {
    if (BigInt(e.from_address) !== EXCHANGE_ADDRESS) continue;
    const decoded = decodeEvent(ExchangeClass, e.keys.map((k) => BigInt(k)), e.data.map((d) => BigInt(d)));
    if (decoded === undefined || !names.includes(decoded.name)) continue;
    for (const [member, v] of Object.entries(decoded.values)) {
      if (typeof v !== "bigint") throw new DrillError(`event ${decoded.name}.${member} is not an integer`);
    }
    out.push({ name: decoded.name, values: decoded.values as Record<string, bigint> });
  }
  return out;
}

/**
 * A throwaway branch: transactions executed against the committed head in a pending
 * state that is never committed (what starknet_simulateTransactions does), signature
 * validation skipped, fees charged as a block would. Answers views on the branch.
 */
export class Branch {
  readonly state: PendingState;
  constructor(private readonly node: PerpchainNode) {
    this.state = new PendingState(node.world);
  }

  /** Execute `calls` from `sender`: the revert reason (null when it succeeded) and the events. */
  execute(sender: Felt, calls: readonly Call[]): { revert: string | null; events: EmittedEvent[] } {
    const raw = unsignedInvokeJson(sender, this.state.getNonce(sender), calls, this.node.gasPrices);
    const tx = intake(parseBroadcastedTxn(raw, "branch"), this.node.chainId);
    const ctx = this.node.blockContext(this.node.headNumber() + 1, this.node.nowS());
    const exec = executeTransaction(this.state, this.node.registry, ctx, tx.exec, { skipValidate: true });
    this.state.apply(exec.stateDiff);
    return { revert: exec.status === "SUCCEEDED" ? null : (exec.revertReason ?? "reverted"), events: exec.events };
  }

  view<O>(sig: { selector: Felt; inputs: object; output?: unknown }, args: Record<string, unknown>): O {
    return viewOn<O>(this.node, this.state, sig, args);
  }
}

// ---- calls ---------------------------------------------------------------------------

export const calls = {
  deposit(usdc: Felt, amount_usdc6: bigint): Call[] {
    return [
      { to: usdc, selector: erc20.approve.selector, calldata: encodeArgs(erc20.approve.inputs, { spender: EXCHANGE_ADDRESS, amount: amount_usdc6 }) },
      { to: EXCHANGE_ADDRESS, selector: exchangeFns.deposit.selector, calldata: encodeArgs(exchangeFns.deposit.inputs, { amount: amount_usdc6 }) },
    ];
  },
  placeOrder(o: { market: MarketName; side: number; type: number; flags: number; price_e6: bigint; trigger_e6: bigint; size_e8: bigint }): Call {
    return {
      to: EXCHANGE_ADDRESS,
      selector: exchangeFns.placeOrder.selector,
      calldata: encodeArgs(exchangeFns.placeOrder.inputs, {
        market: encodeShortString(o.market),
        side: BigInt(o.side),
        order_type: BigInt(o.type),
        flags: BigInt(o.flags),
        price: o.price_e6,
        trigger_price: o.trigger_e6,
        size: o.size_e8,
      }),
    };
  },
  exchange<I extends object>(sig: { selector: Felt; inputs: I }, args: Record<string, unknown>): Call {
    return { to: EXCHANGE_ADDRESS, selector: sig.selector, calldata: encodeArgs(sig.inputs as never, args as never) };
  },
  mintUsdc(usdc: Felt, recipient: Felt, amount_usdc6: bigint): Call {
    return { to: usdc, selector: erc20.permissionedMint.selector, calldata: encodeArgs(erc20.permissionedMint.inputs, { recipient, amount: amount_usdc6 }) };
  },
  approveUsdc(usdc: Felt, amount_usdc6: bigint): Call {
    return { to: usdc, selector: erc20.approve.selector, calldata: encodeArgs(erc20.approve.inputs, { spender: EXCHANGE_ADDRESS, amount: amount_usdc6 }) };
  },
};
