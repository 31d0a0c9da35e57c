// The exchange's genesis predeploys: the oracle and the perp exchange with the three
// genesis markets, at fixed documented addresses (like STRK's), wired to USDC and to the
// operator account. Plugged into buildGenesis through `extraPredeploys`.

import { encodeShortString, type Felt } from "../state/felt.js";
import type { GenesisAddresses, Predeploy } from "./genesis.js";
import { OracleClass, oracleConstructorInputs, UncheckedOracleClass } from "./oracle.js";
import { ExchangeClass, exchangeConstructorInputs, toAbiMarketConfig } from "./perp/exchange-contract.js";
import { GENESIS_MARKETS } from "./perp/market-config.js";
import { encodeArgs } from "./runtime/index.js";

/** 'PERPCHAIN_ORACLE' as an address. */
export const ORACLE_ADDRESS: Felt = encodeShortString("PERPCHAIN_ORACLE");
/** 'PERPCHAIN_EXCHANGE' as an address. */
export const EXCHANGE_ADDRESS: Felt = encodeShortString("PERPCHAIN_EXCHANGE");

/**
 * Which oracle class genesis deploys: "checked" (default: the oracle re-checks every
 * update on chain) or "unchecked" — the INCIDENT MODEL of the January-2026 system
 * (UncheckedOracleClass), for the rollback drill only.
 */
export type OracleVariant = "checked" | "unchecked";

/** The predeploys for buildGenesis' `extraPredeploys`; `oracle` selects the oracle class. */
export function exchangePredeploys(a: GenesisAddresses, oracle: OracleVariant = "checked"): Predeploy[] {
  if (oracle !== "checked" && oracle !== "unchecked") throw new RangeError(`oracle variant must be "checked" or "unchecked", got ${String(oracle)}`);
  return [
    {
      name: "Oracle",
      address: ORACLE_ADDRESS,
      contractClass: oracle === "checked" ? OracleClass : UncheckedOracleClass,
      constructorCalldata: encodeArgs(oracleConstructorInputs, {
        admin: a.operator,
        operator: a.operator,
        markets: GENESIS_MARKETS.map((m) => ({ market: m.name, max_funding_rate: m.max_funding_rate_e12, funding_period: m.funding_period_s })),
      }),
    },
    {
      name: "PerpExchange",
      address: EXCHANGE_ADDRESS,
      contractClass: ExchangeClass,
      constructorCalldata: encodeArgs(exchangeConstructorInputs, {
        admin: a.operator,
        operator: a.operator,
        usdc: a.usdc,
        oracle: ORACLE_ADDRESS,
        markets: GENESIS_MARKETS.map(toAbiMarketConfig),
      }),
    },
  ];
}
