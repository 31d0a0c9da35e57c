// Deploys USDC (ERC20), the oracle and the perp exchange on the real contract runtime
// (JournaledState + ExecutionEngine, no RPC) and offers typed invoke/view helpers.
// Not a test file itself.

import { erc20, erc20Class, erc20ConstructorCalldata } from "../../contracts/erc20.js";
import { OracleClass, oracleConstructorInputs, oracleFns } from "../../contracts/oracle.js";
import { ExchangeClass, exchangeConstructorInputs, exchangeFns, toAbiMarketConfig } from "../../contracts/perp/exchange-contract.js";
import { GENESIS_MARKETS } from "../../contracts/perp/market-config.js";
import {
  ClassRegistry,
  ContractPanic,
  decodeValue,
  DiffStateReader,
  EMPTY_TX_INFO,
  encodeArgs,
  ExecutionEngine,
  GasMeter,
  JournaledState,
  type ArgValues,
  type FnSig,
  type Inputs,
} from "../../contracts/runtime/index.js";
import { decodeShortString, encodeShortString, type Felt } from "../../state/felt.js";
import { emptyStateDiff } from "../../state/state-diff.js";

export const ADMIN = 0xad01n;
export const OPERATOR = 0x0e01n;
export const ALICE = 0xa11cen;
export const BOB = 0xb0bn;
export const CAROL = 0xca201n;
export const BTC = encodeShortString("BTC-USD-PERP");
export const ETH = encodeShortString("ETH-USD-PERP");
export const PAXG = encodeShortString("PAXG-USD-PERP");

export function deployPerp() {
  const registry = new ClassRegistry([erc20Class, OracleClass, ExchangeClass]);
  const state = new JournaledState(new DiffStateReader(emptyStateDiff()));
  const engine = new ExecutionEngine(
    state,
    registry,
    { block: { blockNumber: 1n, blockTimestamp: 1_700_000_000n, sequencerAddress: 0x5e9n }, tx: EMPTY_TX_INFO },
    new GasMeter(10n ** 15n),
  );
  const usdc = engine.deploy(
    ADMIN,
    erc20Class.classHash,
    1n,
    erc20ConstructorCalldata({ name: "USD Coin", symbol: "USDC", decimals: 6, initialSupply: 0n, recipient: ADMIN, minter: ADMIN }),
    true,
  ).address;
  const oracle = engine.deploy(
    ADMIN,
    OracleClass.classHash,
    2n,
    encodeArgs(oracleConstructorInputs, {
      admin: ADMIN,
      operator: OPERATOR,
      markets: GENESIS_MARKETS.map((m) => ({ market: m.name, max_funding_rate: m.max_funding_rate_e12, funding_period: m.funding_period_s })),
    }),
    true,
  ).address;
  const exchange = engine.deploy(
    ADMIN,
    ExchangeClass.classHash,
    3n,
    encodeArgs(exchangeConstructorInputs, {
      admin: ADMIN,
      operator: OPERATOR,
      usdc,
      oracle,
      markets: GENESIS_MARKETS.map(toAbiMarketConfig),
    }),
    true,
  ).address;

  function invoke<I extends Inputs, O>(caller: Felt, to: Felt, sig: FnSig<I, O>, args: ArgValues<I>): O {
    const inv = engine.call({ to, selector: sig.selector, calldata: encodeArgs(sig.inputs, args), caller });
    return (sig.output ? decodeValue(sig.output, inv.result) : undefined) as O;
  }
  /** The revert reason (short string) of a failing invoke; throws if it succeeds. */
  function revertReason<I extends Inputs, O>(caller: Felt, to: Felt, sig: FnSig<I, O>, args: ArgValues<I>): string {
    try {
      invoke(caller, to, sig, args);
    } catch (e) {
      if (!(e instanceof ContractPanic)) throw e;
      return decodeShortString(e.panicData[0] ?? 0n);
    }
    throw new Error(`${sig.name} did not revert`);
  }
  const ex = <I extends Inputs, O>(caller: Felt, sig: FnSig<I, O>, args: ArgValues<I>) => invoke(caller, exchange, sig, args);
  const fund = (who: Felt, amount: bigint) => {
    invoke(ADMIN, usdc, erc20.permissionedMint, { recipient: who, amount });
    invoke(who, usdc, erc20.approve, { spender: exchange, amount });
    ex(who, exchangeFns.deposit, { amount });
  };
  const usdcBalance = (who: Felt) => invoke(0n, usdc, erc20.balanceOf, { account: who });
  let ts = 1_700_000_000n;
  let seq = 0n;
  const setMarket = (market: Felt, mark: bigint, index = 0n, stepSeconds = 3600n) => {
    ts += stepSeconds;
    seq += 1n;
    invoke(OPERATOR, oracle, oracleFns.updateMarketData, {
      market,
      mark_price: mark,
      index_price: mark,
      funding_rate: 0n,
      funding_index: index,
      timestamp: ts,
      epoch: 1n,
      sequence: seq,
    });
  };
  return { registry, state, engine, usdc, oracle, exchange, invoke, revertReason, ex, fund, usdcBalance, setMarket };
}
