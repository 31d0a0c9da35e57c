// The exchange's genesis predeploys: the oracle and the perp exchange with the three
// genesis markets, at fixed documented addresses (like STRK's), wired to USDC and to the
// operator account. Plugged into buildGenesis through `extraPredeploys`.

import { encodeShortString, type Felt } from "../state/felt.js";
import type { GenesisAddresses, Predeploy } from "./genesis.js";
import { OracleClass, oracleConstructorInputs } from "./oracle.js";
import { ExchangeClass, exchangeConstructorInputs, toAbiMarketConfig } from "./perp/exchange-contract.js";
import { GENESIS_MARKETS } from "./perp/market-config.js";
import { encodeArgs } from "./runtime/index.js";

/** 'PERPCHAIN_ORACLE' as an address. */
export const ORACLE_ADDRESS: Felt = encodeShortString("PERPCHAIN_ORACLE");
/** 'PERPCHAIN_EXCHANGE' as an address. */
export const EXCHANGE_ADDRESS: Felt = encodeShortString("PERPCHAIN_EXCHANGE");

export function exchangePredeploys(a: GenesisAddresses): Predeploy[] {
  return [
    {
      name: "Oracle",
      address: ORACLE_ADDRESS,
      contractClass: OracleClass,
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
