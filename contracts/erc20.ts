// ERC20 token (STRK fee token, USDC collateral) with OpenZeppelin's external face:
// interface names, snake_case and camelCase entry points, `ERC20_*` storage names,
// Transfer/Approval events (keys: selector, from/owner, to/spender; data: u256 value),
// and OZ's panic strings. Minting only through `permissioned_mint`, callable by the
// minter address fixed at construction (the devnet operator for devnet_mint).
//
// Storage note: OZ stores name/symbol as ByteArray; ours are short-string felts at
// ERC20_name / ERC20_symbol (names ≤ 31 chars), returned as ByteArray by name()/symbol().

import { type Felt, decodeShortString, encodeShortString } from "../state/felt.js";
import type { StateReader } from "../state/state-diff.js";
import { defineContract, fnSig, key, data, storageMap, storageVar, storageMapAddress, storageVarAddress, t } from "./runtime/index.js";

const IERC20 = "openzeppelin::token::erc20::interface::IERC20";
const IERC20Metadata = "openzeppelin::token::erc20::interface::IERC20Metadata";
const IERC20Camel = "openzeppelin::token::erc20::interface::IERC20CamelOnly";
const IMintable = "perpchain::erc20::IPermissionedMint";

const U256_MAX = (1n << 256n) - 1n;

export const erc20 = {
  totalSupply: fnSig("total_supply", {}, t.u256),
  balanceOf: fnSig("balance_of", { account: t.contractAddress }, t.u256),
  allowance: fnSig("allowance", { owner: t.contractAddress, spender: t.contractAddress }, t.u256),
  transfer: fnSig("transfer", { recipient: t.contractAddress, amount: t.u256 }, t.bool),
  transferFrom: fnSig("transfer_from", { sender: t.contractAddress, recipient: t.contractAddress, amount: t.u256 }, t.bool),
  approve: fnSig("approve", { spender: t.contractAddress, amount: t.u256 }, t.bool),
  name: fnSig("name", {}, t.byteArray),
  symbol: fnSig("symbol", {}, t.byteArray),
  decimals: fnSig("decimals", {}, t.u8),
  totalSupplyCamel: fnSig("totalSupply", {}, t.u256),
  balanceOfCamel: fnSig("balanceOf", { account: t.contractAddress }, t.u256),
  transferFromCamel: fnSig("transferFrom", { sender: t.contractAddress, recipient: t.contractAddress, amount: t.u256 }, t.bool),
  permissionedMint: fnSig("permissioned_mint", { recipient: t.contractAddress, amount: t.u256 }),
  minter: fnSig("minter", {}, t.contractAddress),
} as const;

export const ERC20_ERRORS = {
  insufficientBalance: "ERC20: insufficient balance",
  insufficientAllowance: "ERC20: insufficient allowance",
  transferFromZero: "ERC20: transfer from 0",
  transferToZero: "ERC20: transfer to 0",
  approveFromZero: "ERC20: approve from 0",
  approveToZero: "ERC20: approve to 0",
  mintToZero: "ERC20: mint to 0",
  notMinter: "ERC20: caller is not minter",
  supplyOverflow: "ERC20: supply overflow",
} as const;

export const ERC20Def = defineContract("perpchain::erc20::ERC20", {
  storage: {
    ERC20_name: storageVar(t.felt252),
    ERC20_symbol: storageVar(t.felt252),
    ERC20_decimals: storageVar(t.u8),
    ERC20_total_supply: storageVar(t.u256),
    ERC20_balances: storageMap([t.contractAddress], t.u256),
    ERC20_allowances: storageMap([t.contractAddress, t.contractAddress], t.u256),
    ERC20_minter: storageVar(t.contractAddress),
  },
  events: {
    Transfer: { from: key(t.contractAddress), to: key(t.contractAddress), value: data(t.u256) },
    Approval: { owner: key(t.contractAddress), spender: key(t.contractAddress), value: data(t.u256) },
  },
});

type Ctx = Parameters<Parameters<typeof ERC20Def.view>[2]>[0];

function transferTokens(ctx: Ctx, from: Felt, to: Felt, amount: bigint): void {
  ctx.assert(from !== 0n, ERC20_ERRORS.transferFromZero);
  ctx.assert(to !== 0n, ERC20_ERRORS.transferToZero);
  const balances = ctx.storage.ERC20_balances;
  const fromBalance = balances.read(from);
  ctx.assert(fromBalance >= amount, ERC20_ERRORS.insufficientBalance);
  balances.write(from, fromBalance - amount);
  balances.write(to, balances.read(to) + amount);
  ctx.emit("Transfer", { from, to, value: amount });
}

function approveTokens(ctx: Ctx, owner: Felt, spender: Felt, amount: bigint): void {
  ctx.assert(owner !== 0n, ERC20_ERRORS.approveFromZero);
  ctx.assert(spender !== 0n, ERC20_ERRORS.approveToZero);
  ctx.storage.ERC20_allowances.write(owner, spender, amount);
  ctx.emit("Approval", { owner, spender, value: amount });
}

function spendAllowance(ctx: Ctx, owner: Felt, spender: Felt, amount: bigint): void {
  const current = ctx.storage.ERC20_allowances.read(owner, spender);
  if (current === U256_MAX) return; // infinite allowance, as OZ
  ctx.assert(current >= amount, ERC20_ERRORS.insufficientAllowance);
  approveTokens(ctx, owner, spender, current - amount);
}

function transferFrom(ctx: Ctx, a: { sender: Felt; recipient: Felt; amount: bigint }): boolean {
  spendAllowance(ctx, a.sender, ctx.caller, a.amount);
  transferTokens(ctx, a.sender, a.recipient, a.amount);
  return true;
}

ERC20Def.constructor_(
  {
    name: t.felt252,
    symbol: t.felt252,
    decimals: t.u8,
    initial_supply: t.u256,
    recipient: t.contractAddress,
    minter: t.contractAddress,
  },
  (ctx, a) => {
    ctx.storage.ERC20_name.write(a.name);
    ctx.storage.ERC20_symbol.write(a.symbol);
    ctx.storage.ERC20_decimals.write(a.decimals);
    ctx.storage.ERC20_minter.write(a.minter);
    if (a.initial_supply > 0n) mint(ctx, a.recipient, a.initial_supply);
  },
)
  .view(IERC20, erc20.totalSupply, (ctx) => ctx.storage.ERC20_total_supply.read())
  .view(IERC20, erc20.balanceOf, (ctx, a) => ctx.storage.ERC20_balances.read(a.account))
  .view(IERC20, erc20.allowance, (ctx, a) => ctx.storage.ERC20_allowances.read(a.owner, a.spender))
  .external(IERC20, erc20.transfer, (ctx, a) => {
    transferTokens(ctx, ctx.caller, a.recipient, a.amount);
    return true;
  })
  .external(IERC20, erc20.transferFrom, transferFrom)
  .external(IERC20, erc20.approve, (ctx, a) => {
    approveTokens(ctx, ctx.caller, a.spender, a.amount);
    return true;
  })
  .view(IERC20Metadata, erc20.name, (ctx) => decodeShortString(ctx.storage.ERC20_name.read()))
  .view(IERC20Metadata, erc20.symbol, (ctx) => decodeShortString(ctx.storage.ERC20_symbol.read()))
  .view(IERC20Metadata, erc20.decimals, (ctx) => ctx.storage.ERC20_decimals.read())
  .view(IERC20Camel, erc20.totalSupplyCamel, (ctx) => ctx.storage.ERC20_total_supply.read())
  .view(IERC20Camel, erc20.balanceOfCamel, (ctx, a) => ctx.storage.ERC20_balances.read(a.account))
  .external(IERC20Camel, erc20.transferFromCamel, transferFrom)
  .external(IMintable, erc20.permissionedMint, (ctx, a) => {
    ctx.assert(ctx.caller === ctx.storage.ERC20_minter.read(), ERC20_ERRORS.notMinter);
    mint(ctx, a.recipient, a.amount);
  })
  .view(IMintable, erc20.minter, (ctx) => ctx.storage.ERC20_minter.read());

function mint(ctx: Ctx, recipient: Felt, amount: bigint): void {
  ctx.assert(recipient !== 0n, ERC20_ERRORS.mintToZero);
  const supply = ctx.storage.ERC20_total_supply.read() + amount;
  ctx.assert(supply <= U256_MAX, ERC20_ERRORS.supplyOverflow);
  ctx.storage.ERC20_total_supply.write(supply);
  const balances = ctx.storage.ERC20_balances;
  balances.write(recipient, balances.read(recipient) + amount);
  ctx.emit("Transfer", { from: 0n, to: recipient, value: amount });
}

export const erc20Class = ERC20Def.build();

/**
 * balance_of of the token at `token` in `state`, read through this class's own storage
 * layout (ERC20_balances[account], as the view reads it) without a call frame; undefined
 * when the contract at `token` is not of this class. For the fee checks (BlockContext.feeBalanceOf).
 */
export function erc20BalanceOf(state: StateReader, token: Felt, account: Felt): bigint | undefined {
  if (state.getClassHash(token) !== erc20Class.classHash) return undefined;
  const storage = erc20Class.storage.readOnly(state, token) as unknown as { ERC20_balances: { read(account: Felt): bigint } };
  return storage.ERC20_balances.read(account);
}

/** Constructor calldata for an ERC20 deployment (name/symbol as short strings). */
export function erc20ConstructorCalldata(p: {
  name: string;
  symbol: string;
  decimals: number;
  initialSupply: bigint;
  recipient: Felt;
  minter: Felt;
}): Felt[] {
  return [
    encodeShortString(p.name),
    encodeShortString(p.symbol),
    BigInt(p.decimals),
    p.initialSupply % (1n << 128n),
    p.initialSupply >> 128n,
    p.recipient,
    p.minter,
  ];
}

/** Storage slots of a balance (low, high), for genesis and RPC helpers that read balances. */
export function erc20BalanceSlots(account: Felt): [Felt, Felt] {
  const base = storageMapAddress("ERC20_balances", [account]);
  return [base, base + 1n];
}

export const ERC20_TOTAL_SUPPLY_SLOT: Felt = storageVarAddress("ERC20_total_supply");
