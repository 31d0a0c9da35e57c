// Every header input of a block reaches the followers: a leader and a follower in this
// process on a 1-member etcd, started with WEI gas prices that differ from the FRI ones
// (--gas-price-wei & co.), then devnet_setGasPrice changing both on the leader. The
// follower re-executes each block from its etcd record and must arrive at the leader's
// block hash (the WEI prices are part of the header hash): it keeps following, never halts.
// Likewise for a transaction the leader ran without __validate__ (devnet impersonation).
// Also the record round trip on its own: the inputs a record gives back are the inputs the
// block was built from.

import { describe, expect, it } from "vitest";
import { blockInputsOf } from "../../sequencer/block-builder.js";
import { blockInputsOfRecord, blockRecordOf } from "../../sequencer/cluster/node-binding.js";
import type { Devnet } from "../../sequencer/devnet.js";
import { rpc, signedTransfer, type PredeployedAccount } from "../crash/child-node.js";
import { inProcessCluster, until } from "../support/in-process-cluster.js";

const FRI = { l1_gas: 100_000_000_000n, l1_data_gas: 1_000_000n, l2_gas: 1_000_000_000n };
const WEI = { l1_gas: 7_000_000_000n, l1_data_gas: 3_000n, l2_gas: 5_000_000n };
const cluster = inProcessCluster();

function member(nodeId: string): Promise<Devnet> {
  return cluster.member(nodeId, { seed: 3, accounts: 2, chainId: "PERP_HDR", gasPrices: FRI, gasPricesWei: WEI });
}

async function roleOf(d: Devnet): Promise<string> {
  return (await rpc<{ role: string }>(d.rpcUrl, "appchain_getClusterStatus")).role;
}

describe("a follower re-executes blocks whose WEI gas prices differ from the FRI ones", () => {
  it("follows the leader through --gas-price-wei prices and a devnet_setGasPrice change, with equal block hashes", async () => {
    const leader = await member("h1");
    expect(await roleOf(leader)).toBe("leader");
    const follower = await member("h2");
    expect(await roleOf(follower)).toBe("follower");

    // Block 1+: the genesis market data the leader writes on taking over, then one more.
    await until("the leader's market-data bootstrap", () => leader.node.headNumber() >= 1, 10_000);
    const b1 = await leader.node.createBlock();
    expect(BigInt(b1.header.l1_gas_price.price_in_wei)).toBe(WEI.l1_gas);
    await until("the follower at the leader's head", async () => follower.node.headNumber() === leader.node.headNumber() || (await roleOf(follower)) === "halted", 10_000);
    expect(await roleOf(follower)).toBe("follower");

    // devnet_setGasPrice: new FRI and WEI prices for the next block.
    await rpc(leader.rpcUrl, "devnet_setGasPrice", { gas_price_wei: 11, data_gas_price_wei: 12, l2_gas_price_wei: 13, gas_price_fri: 21 });
    const b2 = await leader.node.createBlock();
    expect(b2.header.l1_gas_price).toEqual({ price_in_wei: "0xb", price_in_fri: "0x15" });
    expect(b2.header.l2_gas_price.price_in_wei).toBe("0xd");
    await until("the follower at the leader's head", async () => follower.node.headNumber() === b2.header.block_number || (await roleOf(follower)) === "halted", 10_000);
    expect(await roleOf(follower)).toBe("follower");

    // devnet_impersonateAccount (an --in-memory member): the leader runs a transaction with a
    // wrong signature without __validate__; the follower must skip validation for it too.
    const [acct] = await rpc<PredeployedAccount[]>(leader.rpcUrl, "devnet_getPredeployedAccounts");
    await rpc(leader.rpcUrl, "devnet_impersonateAccount", [acct!.address]);
    const strk = (await rpc<{ fee_token_address: string }>(leader.rpcUrl, "devnet_getConfig")).fee_token_address;
    const nonce = BigInt(await rpc<string>(leader.rpcUrl, "starknet_getNonce", ["latest", acct!.address]));
    const forged = signedTransfer({ from: { address: acct!.address, private_key: "0x1234" }, to: acct!.address, token: strk, amount: 1n, nonce, chainId: await rpc<string>(leader.rpcUrl, "starknet_chainId") });
    await rpc(leader.rpcUrl, "starknet_addInvokeTransaction", [forged.tx]);
    const r3 = await leader.node.waitForTx(BigInt(forged.hash), 10_000);
    await until("the follower at the leader's head", async () => follower.node.headNumber() === r3.blockNumber || (await roleOf(follower)) === "halted", 10_000);
    expect(await roleOf(follower)).toBe("follower");
    expect(await follower.node.transactionStatus(BigInt(forged.hash))).toMatchObject({ finality_status: "ACCEPTED_ON_L2" });

    for (let n = 0; n <= follower.node.headNumber(); n++) {
      expect((await follower.node.chain.getBlock(n))?.header.block_hash).toBe((await leader.node.chain.getBlock(n))?.header.block_hash);
    }
  }, 60_000);

  it("a block record gives back every input the block was built from", async () => {
    const leader = cluster.started()[0]!;
    const n = leader.node.headNumber();
    const stored = (await leader.node.chain.getStoredBlock(n))!;
    const inputs = blockInputsOf(stored.header);
    expect(inputs.gasPricesWei).toEqual({ l1_gas: 11n, l1_data_gas: 12n, l2_gas: 13n });
    const candidate = await leader.node.builder.execute({ ...inputs, number: n + 1 }, []);
    const rec = blockRecordOf(candidate, "1");
    expect(blockInputsOfRecord(rec)).toEqual(candidate.inputs);
  });
});
