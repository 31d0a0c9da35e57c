// SNIP-6 account with OpenZeppelin's external face (interfaces, entry points, panic
// strings, `Account_public_key` storage): stark ECDSA over the transaction hash
// (signature = [r, s]), multicall `__execute__(Array<Call>)`, `__validate__`,
// `__validate_deploy__`, `__validate_declare__`, `is_valid_signature`, SRC5
// `supports_interface`. `constructor(public_key)`, so the counterfactual address
// (salt = public key, deployer 0, calldata [public_key]) matches starknet.js deployAccount.
// Not implemented: set_public_key (key rotation).

import { type Felt, encodeShortString } from "../state/felt.js";
import type { StateReader } from "../state/state-diff.js";
import { defineContract, fnSig, key, storageVar, t } from "./runtime/index.js";

const ISRC6 = "openzeppelin::account::interface::ISRC6";
const ISRC6Camel = "openzeppelin::account::interface::ISRC6CamelOnly";
const IDeclarer = "openzeppelin::account::interface::IDeclarer";
const IDeployable = "openzeppelin::account::interface::IDeployable";
const IPublicKey = "openzeppelin::account::interface::IPublicKey";
const IPublicKeyCamel = "openzeppelin::account::interface::IPublicKeyCamel";
const ISRC5 = "openzeppelin::introspection::interface::ISRC5";

/** starknet::VALIDATED, what validation entry points and is_valid_signature return. */
export const VALIDATED: Felt = encodeShortString("VALID");
export const ISRC6_ID: Felt = 0x2ceccef7f994940b3962a6c67e0ba4fcd37df7d131417c604f91e03caecc1cdn;
export const ISRC5_ID: Felt = 0x3f918d17e5ee77373b56385708f855659a07f75997f365cf87748628532a055n;

export const ACCOUNT_ERRORS = {
  invalidSignature: "Account: invalid signature",
  invalidCaller: "Account: invalid caller",
  invalidTxVersion: "Account: invalid tx version",
} as const;

/** starknet::account::Call as Cairo declares it. */
export const CallType = t.struct("core::starknet::account::Call", {
  to: t.contractAddress,
  selector: t.felt252,
  calldata: t.span(t.felt252),
});

export const account = {
  execute: fnSig("__execute__", { calls: t.array(CallType) }, t.array(t.span(t.felt252))),
  validate: fnSig("__validate__", { calls: t.array(CallType) }, t.felt252),
  isValidSignature: fnSig("is_valid_signature", { hash: t.felt252, signature: t.array(t.felt252) }, t.felt252),
  isValidSignatureCamel: fnSig("isValidSignature", { hash: t.felt252, signature: t.array(t.felt252) }, t.felt252),
  validateDeclare: fnSig("__validate_declare__", { class_hash: t.felt252 }, t.felt252),
  validateDeploy: fnSig(
    "__validate_deploy__",
    { class_hash: t.felt252, contract_address_salt: t.felt252, public_key: t.felt252 },
    t.felt252,
  ),
  getPublicKey: fnSig("get_public_key", {}, t.felt252),
  getPublicKeyCamel: fnSig("getPublicKey", {}, t.felt252),
  supportsInterface: fnSig("supports_interface", { interface_id: t.felt252 }, t.bool),
} as const;

const AccountDef = defineContract("perpchain::account::Account", {
  storage: { Account_public_key: storageVar(t.felt252) },
  events: {
    OwnerAdded: { new_owner_guid: key(t.felt252) },
  },
});

type Ctx = Parameters<Parameters<typeof AccountDef.view>[2]>[0];

function isValidSignature(ctx: Ctx, hash: Felt, signature: readonly Felt[]): boolean {
  if (signature.length !== 2) return false;
  return ctx.ecdsaVerify(hash, signature[0]!, signature[1]!, ctx.storage.Account_public_key.read());
}

/** Validation of the current transaction's signature over its hash; panics when invalid. */
function validateTransaction(ctx: Ctx): Felt {
  const tx = ctx.tx;
  ctx.assert(isValidSignature(ctx, tx.transactionHash, tx.signature), ACCOUNT_ERRORS.invalidSignature);
  return VALIDATED;
}

export const accountClass = AccountDef.constructor_({ public_key: t.felt252 }, (ctx, a) => {
  ctx.storage.Account_public_key.write(a.public_key);
  ctx.emit("OwnerAdded", { new_owner_guid: a.public_key });
})
  .external(ISRC6, account.execute, (ctx, a) => {
    ctx.assert(ctx.caller === 0n, ACCOUNT_ERRORS.invalidCaller);
    ctx.assert(ctx.tx.version >= 1n, ACCOUNT_ERRORS.invalidTxVersion);
    return a.calls.map((c) => ctx.call(c.to, c.selector, c.calldata));
  })
  .external(ISRC6, account.validate, (ctx) => validateTransaction(ctx))
  .view(ISRC6, account.isValidSignature, (ctx, a) => (isValidSignature(ctx, a.hash, a.signature) ? VALIDATED : 0n))
  .view(ISRC6Camel, account.isValidSignatureCamel, (ctx, a) =>
    isValidSignature(ctx, a.hash, a.signature) ? VALIDATED : 0n,
  )
  .external(IDeclarer, account.validateDeclare, (ctx) => validateTransaction(ctx))
  .external(IDeployable, account.validateDeploy, (ctx) => validateTransaction(ctx))
  .view(IPublicKey, account.getPublicKey, (ctx) => ctx.storage.Account_public_key.read())
  .view(IPublicKeyCamel, account.getPublicKeyCamel, (ctx) => ctx.storage.Account_public_key.read())
  .view(ISRC5, account.supportsInterface, (_ctx, a) => a.interface_id === ISRC6_ID || a.interface_id === ISRC5_ID)
  .build();

/**
 * The public key an account of this class stores (Account_public_key, as get_public_key
 * reads it), without a call frame; undefined when the contract at `address` is not of this
 * class. For admission's signature prefetch: a hint, never a substitute for __validate__.
 */
export function accountPublicKeyOf(state: StateReader, address: Felt): Felt | undefined {
  if (state.getClassHash(address) !== accountClass.classHash) return undefined;
  const storage = accountClass.storage.readOnly(state, address) as unknown as { Account_public_key: { read(): Felt } };
  return storage.Account_public_key.read();
}
