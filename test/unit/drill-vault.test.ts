// fund_vault: the admin entry point that tops up the Liquidator Vault so refunds can be
// paid after a rollback (the drill's refund step), and the incident-model oracle class.

import { describe, expect, it } from "vitest";
import { erc20 } from "../../contracts/erc20.js";
import { checkPricesOnly, OracleClass, UncheckedOracleClass, type OracleMarket } from "../../contracts/oracle.js";
import { exchangeFns } from "../../contracts/perp/exchange-contract.js";
import { ExchangeError } from "../../contracts/perp/errors.js";
import { parseUsdc as usd } from "../../contracts/perp/units.js";
import { exchangePredeploys } from "../../contracts/exchange-genesis.js";
import { ADMIN, ALICE, CAROL, deployPerp } from "./perp-contract-helpers.js";

describe("fund_vault", () => {
  it("pulls the admin's USDC into the exchange and credits the vault, which can then pay out", () => {
    const p = deployPerp();
    p.invoke(ADMIN, p.usdc, erc20.permissionedMint, { recipient: ADMIN, amount: usd("500") });
    p.invoke(ADMIN, p.usdc, erc20.approve, { spender: p.exchange, amount: usd("500") });
    p.ex(ADMIN, exchangeFns.fundVault, { amount: usd("500") });
    expect(p.usdcBalance(ADMIN)).toBe(0n);
    expect(p.usdcBalance(p.exchange)).toBe(usd("500"));
    expect(p.ex(0n, exchangeFns.getVault, {})).toMatchObject({ balance: usd("500"), free_collateral: usd("500") });
    expect(p.ex(0n, exchangeFns.getExchangeState, {}).total_deposits).toBe(usd("500"));
    p.ex(ADMIN, exchangeFns.vaultPayout, { recipient: CAROL, amount: usd("123.456789") });
    expect(p.usdcBalance(CAROL)).toBe(usd("123.456789"));
    expect(p.ex(0n, exchangeFns.getVault, {}).balance).toBe(usd("376.543211"));
  });

  it("is admin only, refuses zero and needs the allowance", () => {
    const p = deployPerp();
    p.invoke(ADMIN, p.usdc, erc20.permissionedMint, { recipient: ALICE, amount: usd("10") });
    p.invoke(ALICE, p.usdc, erc20.approve, { spender: p.exchange, amount: usd("10") });
    expect(p.revertReason(ALICE, p.exchange, exchangeFns.fundVault, { amount: usd("10") })).toBe("PERP: only admin");
    expect(p.revertReason(ADMIN, p.exchange, exchangeFns.fundVault, { amount: 0n })).toBe("PERP: bad amount");
    expect(p.revertReason(ADMIN, p.exchange, exchangeFns.fundVault, { amount: 1n })).toBe("ERC20: insufficient allowance");
    expect(p.ex(0n, exchangeFns.getVault, {}).balance).toBe(0n);
  });
});

describe("the incident-model oracle (UncheckedOracleClass)", () => {
  const prev: OracleMarket = {
    mark_price_e6: 97_000_000_000n,
    index_price_e6: 97_000_000_000n,
    funding_rate_e12: 10_000_000n,
    funding_index_e6: 1_523_774_000n,
    timestamp_s: 1_000n,
    epoch: 2n,
    sequence: 7n,
    max_funding_rate_e12: 500_000_000n,
    funding_period_s: 3600n,
  };
  const reset = { mark_price_e6: 97_000_000_000n, index_price_e6: 97_000_000_000n, funding_rate_e12: 0n, funding_index_e6: 0n, timestamp_s: 900n, epoch: 1n, sequence: 1n };

  it("accepts a funding-index reset and a stale update that the checked oracle refuses", () => {
    expect(() => checkPricesOnly(prev, reset)).not.toThrow();
  });

  it("still refuses a non-positive price and an unknown market", () => {
    const codeOf = (f: () => void) => {
      try {
        f();
      } catch (e) {
        if (e instanceof ExchangeError) return e.code;
        throw e;
      }
      return "accepted";
    };
    expect(codeOf(() => checkPricesOnly(prev, { ...reset, mark_price_e6: 0n }))).toBe("ORACLE: price not positive");
    expect(codeOf(() => checkPricesOnly({ ...prev, funding_period_s: 0n }, reset))).toBe("ORACLE: unknown market");
  });

  it("has its own class hash and the checked oracle's ABI; genesis deploys it only when asked", () => {
    expect(UncheckedOracleClass.classHash).not.toBe(OracleClass.classHash);
    // Same entry points and events; only the event enum's class path differs.
    expect(UncheckedOracleClass.abiJson.replaceAll("perpchain::oracle::UncheckedOracleIncidentModel::", "perpchain::oracle::Oracle::")).toBe(OracleClass.abiJson);
    const addrs = { operator: ADMIN, usdc: 0x05dcn } as Parameters<typeof exchangePredeploys>[0];
    expect(exchangePredeploys(addrs)[0]!.contractClass).toBe(OracleClass);
    expect(exchangePredeploys(addrs, "unchecked")[0]!.contractClass).toBe(UncheckedOracleClass);
    expect(() => exchangePredeploys(addrs, "off" as never)).toThrow(RangeError);
  });
});
