// Contract address derivation, as Starknet's deploy syscall and starknet.js
// `calculateContractAddressFromHash` compute it:
//   pedersen_on_elements('STARKNET_CONTRACT_ADDRESS', deployer, salt, class_hash,
//                        pedersen_on_elements(constructor_calldata)) mod (2^251 − 256)

import { type Felt, encodeShortString } from "../../state/felt.js";
import { pedersenOnElements } from "../../state/crypto/hash.js";

const CONTRACT_ADDRESS_PREFIX = encodeShortString("STARKNET_CONTRACT_ADDRESS");
/** Contract addresses are reduced below 2^251 − 256. */
export const CONTRACT_ADDRESS_BOUND: Felt = (1n << 251n) - 256n;

export function computeContractAddress(
  deployer: Felt,
  salt: Felt,
  classHash: Felt,
  constructorCalldata: readonly Felt[],
): Felt {
  const h = pedersenOnElements([
    CONTRACT_ADDRESS_PREFIX,
    deployer,
    salt,
    classHash,
    pedersenOnElements(constructorCalldata),
  ]);
  return h % CONTRACT_ADDRESS_BOUND;
}
