// Genesis: a pure function from inputs (account keys, balances, operator key, chain id,
// extra predeploys) to the genesis StateDiff and the list of predeployed contracts.
// Every predeploy is deployed by running its real constructor through the runtime, so
// genesis storage is exactly what a deployment would write. Same inputs ⇒ same diff.
//
// Addresses:
//   STRK  0x04718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d (Starknet's STRK)
//   ETH   0x049d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7 (Starknet's ETH, also
//         predeployed by starknet-devnet; 18 decimals; fees are paid in STRK only)
//   USDC  0x053c91253bc9682c04929ca02ed00b3e423f6710d2ee7e0d5ebb06f3ecf368a8 (Starknet mainnet's
//         USDC address, reused so tools that know it recognise the token; 6 decimals)
//   UDC   0x041a78e741e5af2fec34b695679bc6891742439f7afb8484ecd7766661ad02bf (starknet-devnet's /
//         starknet.js LegacyUDC) and 0x02ceed65a4bd731034c01113685c831b01c15d7d432f71afb1cf1634b53a2125
//         (starknet.js's default UDC) — the same class at both.
//   accounts and the operator at their counterfactual addresses (salt = public key,
//   deployer 0, calldata [public key]), like starknet.js deployAccount.
// The operator account is the minter of every token (devnet_mint = permissioned_mint
// from the operator).

import type { Felt } from "../state/felt.js";
import { type StateDiff, emptyStateDiff } from "../state/state-diff.js";
import { accountClass } from "./account.js";
import { erc20, erc20Class, erc20ConstructorCalldata } from "./erc20.js";
import {
  ClassRegistry,
  type ContractClass,
  DiffStateReader,
  EMPTY_TX_INFO,
  ExecutionEngine,
  GasMeter,
  JournaledState,
  computeContractAddress,
  encodeArgs,
} from "./runtime/index.js";
import { udcClass } from "./udc.js";

export const STRK_ADDRESS: Felt = 0x04718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938dn;
export const ETH_ADDRESS: Felt = 0x049d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7n;
export const USDC_ADDRESS: Felt = 0x053c91253bc9682c04929ca02ed00b3e423f6710d2ee7e0d5ebb06f3ecf368a8n;
export const UDC_ADDRESS: Felt = 0x041a78e741e5af2fec34b695679bc6891742439f7afb8484ecd7766661ad02bfn;
export const UDC_V2_ADDRESS: Felt = 0x02ceed65a4bd731034c01113685c831b01c15d7d432f71afb1cf1634b53a2125n;

export const STRK_DECIMALS = 18;
export const ETH_DECIMALS = 18;
export const USDC_DECIMALS = 6;

/** A contract deployed at genesis by running its constructor at a fixed address. */
export interface Predeploy {
  name: string;
  address: Felt;
  contractClass: ContractClass;
  constructorCalldata: readonly Felt[];
  /** Raw storage written after the constructor, for state a constructor cannot express. */
  extraStorage?: readonly (readonly [key: Felt, value: Felt])[];
}

export interface GenesisAccountInput {
  publicKey: Felt;
  /** Initial STRK balance in FRI (10^-18 STRK). */
  strkBalance: bigint;
  /** Initial ETH balance in WEI (10^-18 ETH); default 0. */
  ethBalance?: bigint;
  /** Initial USDC balance in 10^-6 USDC. */
  usdcBalance: bigint;
}

/** Addresses of the built-in predeploys, for extra predeploys that reference them. */
export interface GenesisAddresses {
  strk: Felt;
  eth: Felt;
  usdc: Felt;
  udc: Felt;
  operator: Felt;
  accounts: readonly Felt[];
}

export interface GenesisInput {
  chainId: Felt;
  accounts: readonly GenesisAccountInput[];
  operatorPublicKey: Felt;
  /** STRK given to the operator account (it pays fees for market-data transactions). */
  operatorStrkBalance: bigint;
  /** Extra predeploys (oracle, exchange), deployed after the built-ins, in order. */
  extraPredeploys?: (addresses: GenesisAddresses) => readonly Predeploy[];
}

export interface PredeployedContract {
  name: string;
  address: Felt;
  classHash: Felt;
}

export interface Genesis {
  chainId: Felt;
  stateDiff: StateDiff;
  predeployed: PredeployedContract[];
  accounts: { publicKey: Felt; address: Felt }[];
  operator: { publicKey: Felt; address: Felt };
  /** Classes declared at genesis (also registered in `registry`). */
  classes: ContractClass[];
  registry: ClassRegistry;
}

/** The built-in classes every node registers. */
export const builtinClasses: readonly ContractClass[] = [accountClass, erc20Class, udcClass];

/** Counterfactual address of an account with this public key (starknet.js deployAccount defaults). */
export function accountAddress(publicKey: Felt): Felt {
  return computeContractAddress(0n, publicKey, accountClass.classHash, [publicKey]);
}

export function buildGenesis(input: GenesisInput): Genesis {
  const operatorAddress = accountAddress(input.operatorPublicKey);
  const accountAddresses = input.accounts.map((a) => accountAddress(a.publicKey));
  const addresses: GenesisAddresses = {
    strk: STRK_ADDRESS,
    eth: ETH_ADDRESS,
    usdc: USDC_ADDRESS,
    udc: UDC_ADDRESS,
    operator: operatorAddress,
    accounts: accountAddresses,
  };

  const predeploys: Predeploy[] = [
    {
      name: "STRK",
      address: STRK_ADDRESS,
      contractClass: erc20Class,
      constructorCalldata: erc20ConstructorCalldata({
        name: "Starknet Token",
        symbol: "STRK",
        decimals: STRK_DECIMALS,
        initialSupply: 0n,
        recipient: operatorAddress,
        minter: operatorAddress,
      }),
    },
    {
      name: "ETH",
      address: ETH_ADDRESS,
      contractClass: erc20Class,
      constructorCalldata: erc20ConstructorCalldata({
        name: "Ether",
        symbol: "ETH",
        decimals: ETH_DECIMALS,
        initialSupply: 0n,
        recipient: operatorAddress,
        minter: operatorAddress,
      }),
    },
    {
      name: "USDC",
      address: USDC_ADDRESS,
      contractClass: erc20Class,
      constructorCalldata: erc20ConstructorCalldata({
        name: "USD Coin",
        symbol: "USDC",
        decimals: USDC_DECIMALS,
        initialSupply: 0n,
        recipient: operatorAddress,
        minter: operatorAddress,
      }),
    },
    { name: "UniversalDeployer", address: UDC_ADDRESS, contractClass: udcClass, constructorCalldata: [] },
    { name: "UniversalDeployerV2", address: UDC_V2_ADDRESS, contractClass: udcClass, constructorCalldata: [] },
    {
      name: "Operator",
      address: operatorAddress,
      contractClass: accountClass,
      constructorCalldata: [input.operatorPublicKey],
    },
    ...input.accounts.map((a, i) => ({
      name: `Account${i}`,
      address: accountAddresses[i]!,
      contractClass: accountClass,
      constructorCalldata: [a.publicKey],
    })),
    ...(input.extraPredeploys?.(addresses) ?? []),
  ];

  const classes = uniqueClasses([...builtinClasses, ...predeploys.map((p) => p.contractClass)]);
  const registry = new ClassRegistry(classes);
  const state = new JournaledState(new DiffStateReader(emptyStateDiff()));
  const engine = new ExecutionEngine(
    state,
    registry,
    { block: { blockNumber: 0n, blockTimestamp: 0n, sequencerAddress: 0n }, tx: { ...EMPTY_TX_INFO, chainId: input.chainId } },
    new GasMeter(1n << 64n),
  );
  for (const c of classes) state.declare(c.classHash, c.compiledClassHash);
  const seen = new Set<Felt>();
  for (const p of predeploys) {
    if (seen.has(p.address)) throw new RangeError(`genesis: two predeploys at ${p.address.toString(16)} (${p.name})`);
    seen.add(p.address);
    engine.deployAt(p.address, 0n, p.contractClass.classHash, p.constructorCalldata);
    for (const [k, v] of p.extraStorage ?? []) state.setStorage(p.address, k, v);
  }

  const mint = (token: Felt, recipient: Felt, amount: bigint) => {
    if (amount === 0n) return;
    engine.call({
      to: token,
      selector: erc20.permissionedMint.selector,
      calldata: encodeArgs(erc20.permissionedMint.inputs, { recipient, amount }),
      caller: operatorAddress,
    });
  };
  mint(STRK_ADDRESS, operatorAddress, input.operatorStrkBalance);
  input.accounts.forEach((a, i) => {
    mint(STRK_ADDRESS, accountAddresses[i]!, a.strkBalance);
    mint(ETH_ADDRESS, accountAddresses[i]!, a.ethBalance ?? 0n);
    mint(USDC_ADDRESS, accountAddresses[i]!, a.usdcBalance);
  });

  return {
    chainId: input.chainId,
    stateDiff: state.toStateDiff(),
    predeployed: predeploys.map((p) => ({ name: p.name, address: p.address, classHash: p.contractClass.classHash })),
    accounts: input.accounts.map((a, i) => ({ publicKey: a.publicKey, address: accountAddresses[i]! })),
    operator: { publicKey: input.operatorPublicKey, address: operatorAddress },
    classes,
    registry,
  };
}

function uniqueClasses(list: readonly ContractClass[]): ContractClass[] {
  const m = new Map<Felt, ContractClass>();
  for (const c of list) if (!m.has(c.classHash)) m.set(c.classHash, c);
  return [...m.values()];
}
