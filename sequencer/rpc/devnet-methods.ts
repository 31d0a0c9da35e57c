// devnet_* methods, answered in starknet-devnet's shapes (its JS client, `starknet-devnet`'s
// DevnetProvider, drives them unmodified): accounts and balances, mint, blocks, time, gas
// prices, restart, dump/load, abort, impersonation, config. Handlers ask the node (or the
// devnet around it) to act; they never set the node's fields and never build JSON-RPC errors.
// Methods that replace or export the whole chain on a --db node are operator methods.

import { EXCHANGE_ADDRESS, ORACLE_ADDRESS } from "../../contracts/exchange-genesis.js";
import type { GasPrices } from "../../contracts/runtime/gas.js";
import type { StateReader } from "../../state/state-diff.js";
import { selectorFromName } from "../../state/crypto/hash.js";
import { toHex, type Felt } from "../../state/felt.js";
import { callView } from "../../contracts/runtime/transaction-executor.js";
import { DevnetCompatError, InvalidParamsError, UnsupportedActionError } from "../errors.js";
import type { BlockGeneration, PerpchainNode } from "../node.js";
import { authorizeOperator } from "./operator-auth.js";
import { resolveBlockNumber } from "./starknet-methods.js";
import { parseAddressParam, parseBlockId, parseNonNegativeInteger } from "./params.js";
import type { HandlerRegistry, RpcContext } from "./registry.js";

/** What the devnet methods need beyond the node: the devnet's own actions and settings. */
export interface DevnetControls {
  node: PerpchainNode;
  host: string;
  port: () => number;
  adminToken?: string;
  dumpPath?: string;
  dumpOn?: DumpOn;
  /** devnet_restart: back to the pristine chain, then market data and triggers follow it. */
  restart(): Promise<void>;
  /** devnet_dump: the whole chain to `path`; `given` when the caller named it (held to the dump directory). */
  dump(path: string, given: boolean): Promise<unknown>;
  /** devnet_dump without any path: the dump itself, base64, in the answer. */
  dumpInline(): Promise<unknown>;
  /** devnet_load: replace the running chain by the dump at `path`. */
  load(path: string): Promise<unknown>;
}

export type DumpOn = "exit" | "block" | "request";

/** Fee and collateral tokens devnet_mint knows, by starknet-devnet's unit names (USDC is ours). */
export const MINT_UNITS = { FRI: "STRK", WEI: "ETH", USDC: "USDC" } as const;
export type MintUnit = keyof typeof MINT_UNITS;

export function registerDevnetMethods(registry: HandlerRegistry, c: DevnetControls): void {
  const { node } = c;
  const tokenOf = (unit: MintUnit): Felt => node.genesis.predeployed.find((p) => p.name === MINT_UNITS[unit])!.address;
  /** On a persistent (--db) chain, replacing or exporting the chain is for the operator. */
  const operatorOnDisk = (ctx: RpcContext) => {
    if (!node.isInMemory) authorizeOperator(ctx, c.adminToken);
  };

  registry.register(
    "devnet_getPredeployedAccounts",
    (p) => {
      const withBalance = optionalBool(p.with_balance, "with_balance") ?? false;
      return predeployedAccounts(node).map((a) => ({
        ...a,
        balance: withBalance
          ? {
              eth: { amount: balanceOf(node, tokenOf("WEI"), BigInt(a.address)).toString(), unit: "WEI" },
              strk: { amount: balanceOf(node, tokenOf("FRI"), BigInt(a.address)).toString(), unit: "FRI" },
            }
          : null,
      }));
    },
    { paramNames: ["with_balance?"] },
  );

  registry.register(
    "devnet_mint",
    async (p) => {
      const address = parseAddressParam(p.address, "address");
      const amount = parseUint(p.amount, "amount", 256);
      const unit = parseUnit(p.unit);
      const token = tokenOf(unit);
      const hash = await node.submitOperatorInvoke([{ to: token, selector: PERMISSIONED_MINT, calldata: [address, amount & U128, amount >> 128n] }]);
      if (node.options.blockGeneration.mode === "transaction") {
        const tx = await node.waitForTx(hash);
        if (tx.receipt.execution_status !== "SUCCEEDED") {
          const reason = String(tx.receipt.revert_reason ?? "");
          throw new DevnetCompatError("Minting reverted", {
            tx_hash: toHex(hash),
            revert_reason: /overflow/i.test(reason) ? "The requested minting amount overflows the token contract's total_supply." : reason,
          });
        }
      }
      return { new_balance: balanceOf(node, token, address).toString(), unit, tx_hash: toHex(hash) };
    },
    { paramNames: ["address", "amount", "unit?"] },
  );

  registry.register(
    "devnet_getAccountBalance",
    async (p) => {
      const address = parseAddressParam(p.address, "address");
      const unit = parseUnit(p.unit);
      const n = p.block_id === undefined ? node.headNumber() : await resolveBlockNumber(node, parseBlockId(p.block_id));
      const at = n === node.headNumber() ? undefined : { state: await node.stateAt(n), number: n };
      return { amount: balanceOf(node, tokenOf(unit), address, at).toString(), unit };
    },
    { paramNames: ["address", "unit?", "block_id?"] },
  );

  registry.register("devnet_createBlock", async () => ({ block_hash: (await node.createBlock()).header.block_hash }), { paramNames: [] });

  registry.register(
    "devnet_abortBlocks",
    async (p) => {
      const id = parseBlockId(p.starting_block_id, "starting_block_id");
      let start: number | undefined;
      if (id.kind === "tag" && id.tag === "pre_confirmed") start = (await node.createBlock()).header.block_number;
      else if (id.kind === "number") start = id.number <= node.headNumber() ? id.number : undefined;
      else if (id.kind === "hash") start = await node.chain.getBlockNumberByHash(id.hash);
      else start = node.headNumber();
      if (start === undefined) throw new DevnetCompatError("No block found");
      if (start === 0) throw new UnsupportedActionError("Genesis block can't be aborted");
      // The hashes come from the rollback itself, under the production lock: read here, before
      // it, a concurrent abort or restart could remove the blocks in between.
      // A concurrent abort that removed them first leaves nothing: the block is gone by then.
      const { removedBlockHashes } = await node.rollbackTo(start - 1, "drop");
      if (removedBlockHashes.length === 0) throw new DevnetCompatError("No block found");
      return { aborted: removedBlockHashes };
    },
    { paramNames: ["starting_block_id"] },
  );

  registry.register(
    "devnet_setTime",
    async (p) => {
      const time = parseDevnetTime(p.time, "time", 0);
      const generate = optionalBool(p.generate_block, "generate_block") ?? true;
      node.setTime(time);
      const block_hash = generate ? (await node.createBlock()).header.block_hash : null;
      return { block_timestamp: time, block_hash };
    },
    { paramNames: ["time", "generate_block?"] },
  );

  registry.register(
    "devnet_increaseTime",
    async (p) => {
      const time = parseDevnetTime(p.time, "time", node.nowS());
      node.increaseTime(time);
      const b = await node.createBlock();
      return { timestamp_increased_by: time, block_hash: b.header.block_hash };
    },
    { paramNames: ["time"] },
  );

  registry.register(
    "devnet_setGasPrice",
    async (p) => {
      const fri: Partial<GasPrices> = {};
      const wei: Partial<GasPrices> = {};
      for (const [field, target, key] of GAS_PRICE_PARAMS) {
        if (p[field] !== undefined) (target === "fri" ? fri : wei)[key] = parseGasPrice(p[field], field);
      }
      node.setGasPrices(fri, wei);
      if (optionalBool(p.generate_block, "generate_block") === true) await node.createBlock();
      return gasPricesJson(node);
    },
    { paramNames: GAS_PRICE_PARAMS.map(([f]) => `${f}?`).concat("generate_block?") },
  );

  registry.register(
    "devnet_restart",
    async (p, ctx) => {
      optionalBool(p.restart_l1_to_l2_messaging, "restart_l1_to_l2_messaging"); // no L1 here: accepted, nothing to restart
      operatorOnDisk(ctx);
      await c.restart();
      return {};
    },
    { paramNames: ["restart_l1_to_l2_messaging?"] },
  );

  // Dump and load read or write files: operator methods on every node (loopback or admin token).
  registry.register(
    "devnet_dump",
    async (p, ctx) => {
      authorizeOperator(ctx, c.adminToken);
      // No path at all: like starknet-devnet, the dump comes back in the answer (base64 of our format).
      if (p.path === undefined) return c.dumpPath === undefined ? c.dumpInline() : c.dump(c.dumpPath, false);
      if (typeof p.path !== "string" || p.path.length === 0) throw new InvalidParamsError("path", "expected a file path");
      return c.dump(p.path, true);
    },
    { paramNames: ["path?"] },
  );

  registry.register(
    "devnet_load",
    async (p, ctx) => {
      authorizeOperator(ctx, c.adminToken);
      if (typeof p.path !== "string" || p.path.length === 0) throw new InvalidParamsError("path", "expected a file path");
      return c.load(p.path);
    },
    { paramNames: ["path"] },
  );

  // Impersonation: transactions from these senders skip signature validation (nonce and fee
  // still apply). Unlike starknet-devnet (forking mode only, accounts absent locally), any
  // deployed account here; refused on a --db chain (node.setImpersonation).
  registry.register(
    "devnet_impersonateAccount",
    (p) => (node.setImpersonation({ account: parseAddressParam(p.account_address, "account_address"), on: true }), {}),
    { paramNames: ["account_address"] },
  );
  registry.register(
    "devnet_stopImpersonateAccount",
    (p) => (node.setImpersonation({ account: parseAddressParam(p.account_address, "account_address"), on: false }), {}),
    { paramNames: ["account_address"] },
  );
  registry.register("devnet_autoImpersonate", () => (node.setImpersonation({ auto: true }), {}), { paramNames: [] });
  registry.register("devnet_stopAutoImpersonate", () => (node.setImpersonation({ auto: false }), {}), { paramNames: [] });

  registry.register("devnet_getConfig", () => devnetConfig(c), { paramNames: [] });
}

const PERMISSIONED_MINT = selectorFromName("permissioned_mint");
const BALANCE_OF = selectorFromName("balance_of");
const U128 = (1n << 128n) - 1n;

/** devnet_setGasPrice params: starknet-devnet's names → our price tables. */
const GAS_PRICE_PARAMS: ReadonlyArray<readonly [string, "fri" | "wei", keyof GasPrices]> = [
  ["gas_price_wei", "wei", "l1_gas"],
  ["data_gas_price_wei", "wei", "l1_data_gas"],
  ["l2_gas_price_wei", "wei", "l2_gas"],
  ["gas_price_fri", "fri", "l1_gas"],
  ["data_gas_price_fri", "fri", "l1_data_gas"],
  ["l2_gas_price_fri", "fri", "l2_gas"],
];

export interface DevnetAccount {
  address: string;
  private_key: string;
  public_key: string;
  initial_balance: string;
}

export function predeployedAccounts(node: PerpchainNode): DevnetAccount[] {
  return node.genesis.accounts.map((a, i) => ({
    address: toHex(a.address),
    private_key: toHex(node.accountKeys[i]!.privateKey),
    public_key: toHex(a.publicKey),
    initial_balance: node.options.initialBalance.toString(),
  }));
}

export function contractsOf(node: PerpchainNode): Record<string, { address: string; class_hash: string }> {
  const out: Record<string, { address: string; class_hash: string }> = {};
  for (const p of node.genesis.predeployed) out[p.name] = { address: toHex(p.address), class_hash: toHex(p.classHash) };
  return out;
}

/** `address`'s balance of `token` (a u256 of two u128 limbs) at the head, or in the state after block `at.number`. */
export function balanceOf(node: PerpchainNode, token: Felt, address: Felt, at?: { state: StateReader; number: number }): bigint {
  const r = at === undefined
    ? node.callView(token, BALANCE_OF, [address])
    : callView(at.state, node.registry, { contractAddress: token, entryPointSelector: BALANCE_OF, calldata: [address] }, node.blockContext(at.number + 1, node.nowS()));
  return r[0]! + (r[1]! << 128n);
}

/** starknet-devnet's getConfig keys where they apply (its StarknetConfig and ServerConfig), then ours. */
function devnetConfig(c: DevnetControls): Record<string, unknown> {
  const { node } = c;
  const classOf = (name: string) => toHex(node.genesis.predeployed.find((p) => p.name === name)!.classHash);
  return {
    seed: node.options.seed,
    total_accounts: node.options.accounts,
    account_contract_class_hash: classOf("Operator"), // every predeployed account has the operator's class
    predeployed_accounts_initial_balance: node.options.initialBalance.toString(),
    start_time: null,
    ...gasPricesJson(node),
    chain_id: node.options.chainId,
    dump_on: c.dumpOn ?? null,
    dump_path: c.dumpPath ?? null,
    block_generation_on: blockGenerationJson(node.options.blockGeneration),
    lite_mode: false,
    state_archive: "full",
    fork_config: { url: null, block_number: null },
    eth_erc20_class_hash: classOf("ETH"),
    strk_erc20_class_hash: classOf("STRK"),
    host: c.host,
    port: c.port(),
    restricted_methods: null,
    // perpchain's own
    storage: node.isInMemory ? "memory" : "leveldb",
    predeployed_contracts: contractsOf(node),
    fee_token_address: toHex(node.feeTokenAddress),
    eth_token_address: toHex(node.genesis.predeployed.find((p) => p.name === "ETH")!.address),
    usdc_address: toHex(node.genesis.predeployed.find((p) => p.name === "USDC")!.address),
    oracle_address: toHex(ORACLE_ADDRESS),
    exchange_address: toHex(EXCHANGE_ADDRESS),
    operator_address: toHex(node.genesis.operator.address),
    impersonation: node.isInMemory ? "allowed" : "refused (--db chain)",
    epoch: node.epoch,
  };
}

/** Like starknet-devnet's GasModification: the six prices, as JSON numbers while exact. */
function gasPricesJson(node: PerpchainNode): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [field, table, key] of GAS_PRICE_PARAMS) out[field] = jsonInteger((table === "fri" ? node.gasPrices : node.gasPricesWei)[key]);
  return out;
}

function jsonInteger(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function blockGenerationJson(g: BlockGeneration): unknown {
  return g.mode === "interval" ? { interval: g.seconds } : g.mode;
}

/**
 * Latest block timestamp devnet_setTime / devnet_increaseTime may reach: 9999-12-31T23:59:59Z.
 * Far below 2^53 s, so the clock can run on from it for millennia without leaving the integers
 * the block hash accepts (a time near 2^53 made every later block fail and wedged the node).
 */
export const MAX_DEVNET_TIMESTAMP_S = 253_402_300_799;

function parseDevnetTime(v: unknown, field: string, base: number): number {
  const t = parseNonNegativeInteger(v, field);
  if (base + t > MAX_DEVNET_TIMESTAMP_S) throw new InvalidParamsError(field, `the block timestamp would pass ${MAX_DEVNET_TIMESTAMP_S} (9999-12-31T23:59:59Z)`);
  return t;
}

function parseUnit(v: unknown): MintUnit {
  if (v === undefined) return "FRI";
  if (typeof v !== "string" || !Object.hasOwn(MINT_UNITS, v)) throw new InvalidParamsError("unit", "expected FRI (STRK), WEI (ETH) or USDC");
  return v as MintUnit;
}

function optionalBool(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new InvalidParamsError(field, "expected true or false");
  return v;
}

/**
 * An unsigned integer below 2^bits from a JSON number of any size (the RPC layer keeps big
 * integer literals exact, as bigint), a decimal string or a 0x-hex string.
 */
export function parseUint(v: unknown, field: string, bits: number): bigint {
  let n: bigint | undefined;
  if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === "bigint") n = v;
  else if (typeof v === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) n = BigInt(v);
  if (n === undefined || n < 0n) throw new InvalidParamsError(field, "expected a non-negative integer (JSON number, decimal or 0x-hex string)");
  if (n >= 1n << BigInt(bits)) throw new InvalidParamsError(field, `must be below 2^${bits}`);
  return n;
}

function parseGasPrice(v: unknown, field: string): bigint {
  const n = parseUint(v, field, 128);
  if (n === 0n) throw new InvalidParamsError(field, "a gas price must be positive");
  return n;
}

