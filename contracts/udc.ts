// Universal Deployer: `deploy_contract(class_hash, salt, unique, calldata)` (and the
// legacy camelCase `deployContract`) with the address derivation starknet.js assumes:
//   unique → salt' = pedersen(caller, salt), deployer = the UDC's own address
//   else   → salt' = salt, deployer = 0 (deploy from zero)
// Emits ContractDeployed { address, deployer, unique, class_hash, calldata, salt }, all
// in data, in the order starknet.js `parseDeployerEvent` reads them.

import { defineContract, fnSig, data, t } from "./runtime/index.js";

const IUDC = "openzeppelin::utils::deployments::interface::IUniversalDeployer";

export const udc = {
  deployContract: fnSig(
    "deploy_contract",
    { class_hash: t.classHash, salt: t.felt252, unique: t.bool, calldata: t.span(t.felt252) },
    t.contractAddress,
  ),
  deployContractLegacy: fnSig(
    "deployContract",
    { class_hash: t.classHash, salt: t.felt252, unique: t.bool, calldata: t.span(t.felt252) },
    t.contractAddress,
  ),
} as const;

const UdcDef = defineContract("perpchain::udc::UniversalDeployer", {
  storage: {},
  events: {
    ContractDeployed: {
      address: data(t.contractAddress),
      deployer: data(t.contractAddress),
      unique: data(t.bool),
      class_hash: data(t.classHash),
      calldata: data(t.span(t.felt252)),
      salt: data(t.felt252),
    },
  },
});

type Ctx = Parameters<Parameters<typeof UdcDef.view>[2]>[0];
type DeployArgs = { class_hash: bigint; salt: bigint; unique: boolean; calldata: bigint[] };

function deployContract(ctx: Ctx, a: DeployArgs): bigint {
  const deployer = ctx.caller;
  const salt = a.unique ? ctx.pedersen(deployer, a.salt) : a.salt;
  const address = ctx.deploy(a.class_hash, salt, a.calldata, !a.unique);
  ctx.emit("ContractDeployed", {
    address,
    deployer,
    unique: a.unique,
    class_hash: a.class_hash,
    calldata: a.calldata,
    salt: a.salt,
  });
  return address;
}

export const udcClass = UdcDef.external(IUDC, udc.deployContract, deployContract)
  .external(IUDC, udc.deployContractLegacy, deployContract)
  .build();
