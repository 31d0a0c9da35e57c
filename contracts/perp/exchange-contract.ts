// The perp exchange as a native contract: the rules of exchange-rules.ts over contract
// storage (storage-store.ts), USDC moved with nested ERC20 calls, mark price and
// funding index read from the oracle contract with a nested call (once per market per
// entry point). Rule violations revert with their short-string code. Never reads the
// clock or randomness. Scales: units.ts. ABI names: amounts are u128 (USDC e6), prices
// u64 (e6), sizes u64 (e8), signed amounts i128.

import { erc20 } from "../erc20.js";
import type { Felt } from "../../state/felt.js";
import { oracleFns } from "../oracle.js";
import { data, defineContract, fnSig, key, t, type CallContext } from "../runtime/index.js";
import { ExchangeError, require_ } from "./errors.js";
import { CANCEL_REASONS, type ExchangeEvent } from "./events.js";
import { ExchangeRules, type AccountView } from "./exchange-rules.js";
import { storageVarAddress } from "./slot-address.js";
import { StorageStore } from "./storage-store.js";
import type { MarketDataReader } from "./store.js";
import type { MarketConfig } from "./types.js";

const USDC_SLOT = storageVarAddress("perp_usdc");
const ORACLE_SLOT = storageVarAddress("perp_oracle");
const IFACE = "perpchain::exchange::IExchange";

const MarketConfigT = t.struct("perpchain::exchange::MarketConfig", {
  name: t.felt252,
  tick_size: t.u64,
  lot_size: t.u64,
  initial_margin_ppm: t.u32,
  maintenance_margin_ppm: t.u32,
  liquidation_fee_ppm: t.u32,
  max_leverage: t.u32,
  maker_fee_ppm: t.u32,
  taker_fee_ppm: t.u32,
  max_funding_rate: t.u64,
  funding_period: t.u32,
});
const AccountInfoT = t.struct("perpchain::exchange::AccountInfo", {
  balance: t.i128,
  collateral: t.i128,
  equity: t.i128,
  unrealized_pnl: t.i128,
  pending_funding: t.i128,
  initial_margin: t.u128,
  maintenance_margin: t.u128,
  exposure: t.u128,
  margin_ratio_ppm: t.i128,
  free_collateral: t.i128,
});
const PositionInfoT = t.struct("perpchain::exchange::PositionInfo", {
  size: t.i128,
  entry_price: t.u64,
  cost: t.i128,
  realized_pnl: t.i128,
  unrealized_pnl: t.i128,
  pending_funding: t.i128,
  funding_index: t.i128,
  open_buy: t.u64,
  open_sell: t.u64,
  mark_price: t.u64,
});
const OrderInfoT = t.struct("perpchain::exchange::OrderInfo", {
  order_id: t.u64,
  owner: t.contractAddress,
  market: t.felt252,
  side: t.u8,
  order_type: t.u8,
  flags: t.u8,
  status: t.u8,
  price: t.u64,
  trigger_price: t.u64,
  size: t.u64,
  remaining: t.u64,
});
const DepthLevelT = t.struct("perpchain::exchange::DepthLevel", { price: t.u64, size: t.u128 });
const ExchangeStateT = t.struct("perpchain::exchange::ExchangeState", {
  admin: t.contractAddress,
  operator: t.contractAddress,
  usdc: t.contractAddress,
  oracle: t.contractAddress,
  paused: t.bool,
  post_only: t.bool,
  band_ppm: t.u32,
  next_order_id: t.u64,
  market_count: t.u32,
  fee_balance: t.i128,
  funding_pool: t.i128,
  total_deposits: t.u128,
  total_withdrawals: t.u128,
  total_payouts: t.u128,
});

/** Constructor inputs (encode with the runtime's encodeArgs for deployments / genesis). */
export const exchangeConstructorInputs = {
  admin: t.contractAddress,
  operator: t.contractAddress,
  usdc: t.contractAddress,
  oracle: t.contractAddress,
  markets: t.array(MarketConfigT),
};

export const exchangeFns = {
  deposit: fnSig("deposit", { amount: t.u128 }),
  withdraw: fnSig("withdraw", { amount: t.u128 }),
  placeOrder: fnSig(
    "place_order",
    { market: t.felt252, side: t.u8, order_type: t.u8, flags: t.u8, price: t.u64, trigger_price: t.u64, size: t.u64 },
    t.u64,
  ),
  cancelOrder: fnSig("cancel_order", { order_id: t.u64 }),
  cancelAllOrders: fnSig("cancel_all_orders", { max_count: t.u32 }, t.u32),
  triggerOrder: fnSig("trigger_order", { order_id: t.u64 }),
  liquidate: fnSig("liquidate", { account: t.contractAddress }),
  vaultPayout: fnSig("vault_payout", { recipient: t.contractAddress, amount: t.u128 }),
  fundVault: fnSig("fund_vault", { amount: t.u128 }),
  pause: fnSig("pause", {}),
  resume: fnSig("resume", {}),
  setPostOnly: fnSig("set_post_only", { enabled: t.bool, band_ppm: t.u32 }),
  addMarket: fnSig("add_market", { config: MarketConfigT }),
  getAccount: fnSig("get_account", { account: t.contractAddress }, AccountInfoT),
  getPosition: fnSig("get_position", { account: t.contractAddress, market: t.felt252 }, PositionInfoT),
  getOrder: fnSig("get_order", { order_id: t.u64 }, OrderInfoT),
  getBookDepth: fnSig("get_book_depth", { market: t.felt252, side: t.u8, levels: t.u32 }, t.array(DepthLevelT)),
  getMarket: fnSig("get_market", { market: t.felt252 }, MarketConfigT),
  getVault: fnSig("get_vault", {}, AccountInfoT),
  getExchangeState: fnSig("get_exchange_state", {}, ExchangeStateT),
} as const;


type MarketConfigValue = {
  name: bigint;
  tick_size: bigint;
  lot_size: bigint;
  initial_margin_ppm: bigint;
  maintenance_margin_ppm: bigint;
  liquidation_fee_ppm: bigint;
  max_leverage: bigint;
  maker_fee_ppm: bigint;
  taker_fee_ppm: bigint;
  max_funding_rate: bigint;
  funding_period: bigint;
};

export function toAbiMarketConfig(m: Omit<MarketConfig, "id">): MarketConfigValue {
  return {
    name: m.name,
    tick_size: m.tick_size_e6,
    lot_size: m.lot_size_e8,
    initial_margin_ppm: m.initial_margin_ppm,
    maintenance_margin_ppm: m.maintenance_margin_ppm,
    liquidation_fee_ppm: m.liquidation_fee_ppm,
    max_leverage: m.max_leverage,
    maker_fee_ppm: m.maker_fee_ppm,
    taker_fee_ppm: m.taker_fee_ppm,
    max_funding_rate: m.max_funding_rate_e12,
    funding_period: m.funding_period_s,
  };
}

function fromAbiMarketConfig(m: MarketConfigValue): Omit<MarketConfig, "id"> {
  return {
    name: m.name,
    tick_size_e6: m.tick_size,
    lot_size_e8: m.lot_size,
    initial_margin_ppm: m.initial_margin_ppm,
    maintenance_margin_ppm: m.maintenance_margin_ppm,
    liquidation_fee_ppm: m.liquidation_fee_ppm,
    max_leverage: m.max_leverage,
    maker_fee_ppm: m.maker_fee_ppm,
    taker_fee_ppm: m.taker_fee_ppm,
    max_funding_rate_e12: m.max_funding_rate,
    funding_period_s: m.funding_period,
  };
}

/** Reads the oracle with one nested call per market per entry point. */
class OracleReader implements MarketDataReader {
  private readonly cache = new Map<Felt, { mark: bigint; index: bigint }>();
  constructor(private readonly ctx: CallContext<any, any>) {}
  private get(market: Felt) {
    let v = this.cache.get(market);
    if (!v) {
      const d = this.ctx.callFn(this.ctx.readRaw(ORACLE_SLOT), oracleFns.getMarketData, { market });
      v = { mark: d.mark_price, index: d.funding_index };
      this.cache.set(market, v);
    }
    return v;
  }
  markPrice(market: Felt): bigint {
    return this.get(market).mark;
  }
  fundingIndex(market: Felt): bigint {
    return this.get(market).index;
  }
}

interface Run {
  rules: ExchangeRules;
  store: StorageStore;
}

/** Run `fn` on rules bound to this call's storage; ExchangeError → panic with its code. */
function withRules<T>(ctx: CallContext<any, any>, fn: (r: Run) => T): T {
  const store = new StorageStore(ctx, (e) => emitEvent(ctx, e));
  const rules = new ExchangeRules(store, new OracleReader(ctx));
  try {
    return fn({ rules, store });
  } catch (e) {
    if (e instanceof ExchangeError) ctx.panic(e.code);
    throw e;
  }
}

function emitEvent(ctx: CallContext<any, any>, e: ExchangeEvent): void {
  const { name, ...rest } = e;
  const values: Record<string, unknown> = { ...rest };
  if (e.name === "OrderCancelled") values.reason = BigInt(CANCEL_REASONS.indexOf(e.reason));
  for (const k of ["side", "order_type", "flags", "taker_side", "market_id"]) if (typeof values[k] === "number") values[k] = BigInt(values[k] as number);
  ctx.emit(name, values as never);
}

function accountInfo(a: AccountView) {
  return {
    balance: a.balance_usdc6,
    collateral: a.collateral_usdc6,
    equity: a.equity_usdc6,
    unrealized_pnl: a.unrealized_pnl_usdc6,
    pending_funding: a.pending_funding_usdc6,
    initial_margin: a.initial_margin_usdc6,
    maintenance_margin: a.maintenance_margin_usdc6,
    exposure: a.exposure_usdc6,
    margin_ratio_ppm: a.margin_ratio_ppm,
    free_collateral: a.free_collateral_usdc6,
  };
}

function requireCaller(ctx: CallContext<any, any>): Felt {
  require_(ctx.caller !== 0n, "PERP: bad amount", { reason: "caller is zero" });
  return ctx.caller;
}

export const ExchangeClass = defineContract("perpchain::exchange::PerpExchange", {
  storage: {},
  events: {
    Deposit: { account: key(t.contractAddress), amount_usdc6: data(t.u128) },
    Withdrawal: { account: key(t.contractAddress), amount_usdc6: data(t.u128) },
    OrderPlaced: {
      order_id: key(t.u64),
      owner: key(t.contractAddress),
      market: key(t.felt252),
      side: data(t.u8),
      order_type: data(t.u8),
      flags: data(t.u8),
      price_e6: data(t.u64),
      trigger_price_e6: data(t.u64),
      size_e8: data(t.u64),
    },
    /** reason: 0 USER, 1 OPERATOR, 2 SELF_TRADE, 3 LIQUIDATION, 4 UNFILLED, 5 REDUCE_ONLY */
    OrderCancelled: { order_id: key(t.u64), owner: key(t.contractAddress), remaining_e8: data(t.u64), reason: data(t.u8) },
    OrderTriggered: { order_id: key(t.u64), owner: key(t.contractAddress), mark_e6: data(t.u64) },
    Trade: {
      market: key(t.felt252),
      maker_order_id: data(t.u64),
      taker_order_id: data(t.u64),
      maker: data(t.contractAddress),
      taker: data(t.contractAddress),
      taker_side: data(t.u8),
      price_e6: data(t.u64),
      size_e8: data(t.u64),
      maker_fee_usdc6: data(t.u128),
      taker_fee_usdc6: data(t.u128),
    },
    FundingSettled: { account: key(t.contractAddress), market: key(t.felt252), amount_usdc6: data(t.i128), funding_index_e6: data(t.i128) },
    Liquidation: { account: key(t.contractAddress), market: key(t.felt252), size_e8: data(t.i128), mark_e6: data(t.u64), notional_usdc6: data(t.u128) },
    LiquidationSettled: { account: key(t.contractAddress), fee_usdc6: data(t.u128), bad_debt_usdc6: data(t.u128) },
    VaultPayout: { recipient: key(t.contractAddress), amount_usdc6: data(t.u128) },
    VaultFunded: { funder: key(t.contractAddress), amount_usdc6: data(t.u128) },
    MarketAdded: { market: key(t.felt252), market_id: data(t.u32) },
    TradingPaused: { paused: data(t.bool) },
    PostOnlyMode: { enabled: data(t.bool), band_ppm: data(t.u32) },
  },
})
  .constructor_(
    exchangeConstructorInputs,
    (ctx, a) =>
      withRules(ctx, ({ rules }) => {
        ctx.writeRaw(USDC_SLOT, a.usdc);
        ctx.writeRaw(ORACLE_SLOT, a.oracle);
        rules.initialize(a.admin, a.operator, a.markets.map(fromAbiMarketConfig));
      }),
  )
  .external(IFACE, exchangeFns.deposit, (ctx, a) =>
    withRules(ctx, ({ rules }) => {
      const caller = requireCaller(ctx);
      rules.deposit(caller, a.amount);
      const ok = ctx.callFn(ctx.readRaw(USDC_SLOT), erc20.transferFrom, { sender: caller, recipient: ctx.self, amount: a.amount });
      ctx.assert(ok, "PERP: USDC transfer failed");
    }),
  )
  .external(IFACE, exchangeFns.withdraw, (ctx, a) =>
    withRules(ctx, ({ rules }) => {
      const caller = requireCaller(ctx);
      rules.withdraw(caller, a.amount);
      const ok = ctx.callFn(ctx.readRaw(USDC_SLOT), erc20.transfer, { recipient: caller, amount: a.amount });
      ctx.assert(ok, "PERP: USDC transfer failed");
    }),
  )
  .external(IFACE, exchangeFns.placeOrder, (ctx, a) =>
    withRules(ctx, ({ rules }) =>
      rules.placeOrder(requireCaller(ctx), {
        market: a.market,
        side: Number(a.side),
        order_type: Number(a.order_type),
        flags: Number(a.flags),
        price_e6: a.price,
        trigger_price_e6: a.trigger_price,
        size_e8: a.size,
      }),
    ),
  )
  .external(IFACE, exchangeFns.cancelOrder, (ctx, a) => withRules(ctx, ({ rules }) => rules.cancelOrder(ctx.caller, a.order_id)))
  .external(IFACE, exchangeFns.cancelAllOrders, (ctx, a) =>
    withRules(ctx, ({ rules }) => BigInt(rules.cancelAllOrders(ctx.caller, Number(a.max_count)))),
  )
  .external(IFACE, exchangeFns.triggerOrder, (ctx, a) => withRules(ctx, ({ rules }) => rules.triggerOrder(ctx.caller, a.order_id)))
  .external(IFACE, exchangeFns.liquidate, (ctx, a) => withRules(ctx, ({ rules }) => rules.liquidate(ctx.caller, a.account)))
  .external(IFACE, exchangeFns.vaultPayout, (ctx, a) =>
    withRules(ctx, ({ rules }) => {
      rules.payout(ctx.caller, a.recipient, a.amount);
      const ok = ctx.callFn(ctx.readRaw(USDC_SLOT), erc20.transfer, { recipient: a.recipient, amount: a.amount });
      ctx.assert(ok, "PERP: USDC transfer failed");
    }),
  )
  .external(IFACE, exchangeFns.fundVault, (ctx, a) =>
    withRules(ctx, ({ rules }) => {
      rules.fundVault(ctx.caller, a.amount);
      const ok = ctx.callFn(ctx.readRaw(USDC_SLOT), erc20.transferFrom, { sender: ctx.caller, recipient: ctx.self, amount: a.amount });
      ctx.assert(ok, "PERP: USDC transfer failed");
    }),
  )
  .external(IFACE, exchangeFns.pause, (ctx) => withRules(ctx, ({ rules }) => rules.pause(ctx.caller)))
  .external(IFACE, exchangeFns.resume, (ctx) => withRules(ctx, ({ rules }) => rules.resume(ctx.caller)))
  .external(IFACE, exchangeFns.setPostOnly, (ctx, a) =>
    withRules(ctx, ({ rules }) => rules.setPostOnly(ctx.caller, a.enabled, a.band_ppm)),
  )
  .external(IFACE, exchangeFns.addMarket, (ctx, a) =>
    withRules(ctx, ({ rules }) => {
      rules.addMarket(ctx.caller, fromAbiMarketConfig(a.config));
    }),
  )
  .view(IFACE, exchangeFns.getAccount, (ctx, a) => withRules(ctx, ({ rules }) => accountInfo(rules.account(a.account))))
  .view(IFACE, exchangeFns.getPosition, (ctx, a) =>
    withRules(ctx, ({ rules }) => {
      const p = rules.position(a.account, a.market);
      return {
        size: p.size_e8,
        entry_price: p.entry_price_e6,
        cost: p.cost_usdc6,
        realized_pnl: p.realized_pnl_usdc6,
        unrealized_pnl: p.unrealized_pnl_usdc6,
        pending_funding: p.pending_funding_usdc6,
        funding_index: p.funding_index_e6,
        open_buy: p.open_buy_e8,
        open_sell: p.open_sell_e8,
        mark_price: p.mark_e6,
      };
    }),
  )
  .view(IFACE, exchangeFns.getOrder, (ctx, a) =>
    withRules(ctx, ({ rules, store }) => {
      const o = rules.order(a.order_id);
      const m = store.getMarket(o.market)!;
      return {
        order_id: o.id,
        owner: o.owner,
        market: m.name,
        side: BigInt(o.side),
        order_type: BigInt(o.type),
        flags: BigInt(o.flags),
        status: BigInt(o.status),
        price: o.price_e6,
        trigger_price: o.trigger_price_e6,
        size: o.size_e8,
        remaining: o.remaining_e8,
      };
    }),
  )
  .view(IFACE, exchangeFns.getBookDepth, (ctx, a) =>
    withRules(ctx, ({ rules }) =>
      rules.depth(a.market, Number(a.side), Number(a.levels)).map((l) => ({ price: l.price_e6, size: l.size_e8 })),
    ),
  )
  .view(IFACE, exchangeFns.getMarket, (ctx, a) => withRules(ctx, ({ rules }) => toAbiMarketConfig(rules.market(a.market))))
  .view(IFACE, exchangeFns.getVault, (ctx) => withRules(ctx, ({ rules }) => accountInfo(rules.vault())))
  .view(IFACE, exchangeFns.getExchangeState, (ctx) =>
    withRules(ctx, ({ rules }) => {
      const g = rules.globals();
      return {
        admin: g.admin,
        operator: g.operator,
        usdc: ctx.readRaw(USDC_SLOT),
        oracle: ctx.readRaw(ORACLE_SLOT),
        paused: g.paused,
        post_only: g.post_only,
        band_ppm: g.band_ppm,
        next_order_id: g.next_order_id,
        market_count: BigInt(g.market_count),
        fee_balance: g.fee_balance_usdc6,
        funding_pool: g.funding_pool_usdc6,
        total_deposits: g.total_deposits_usdc6,
        total_withdrawals: g.total_withdrawals_usdc6,
        total_payouts: g.total_payouts_usdc6,
      };
    }),
  )
  .build();
