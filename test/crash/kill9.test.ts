// kill -9 drill (DESIGN §8): the devnet CLI runs as a child process on a LevelDB directory
// while signed STRK transfers arrive concurrently; it is SIGKILLed at seeded random
// instants (under load, and sometimes in the middle of its start-up) and restarted on the
// same directory. After every restart:
//   - GET /ready answers 200;
//   - every acknowledged transaction (the RPC answered with its hash) is in a block or
//     still RECEIVED — none is lost.
// At the end, once the node has settled: every acknowledged transaction is in exactly one
// block, account nonces count them, the blocks chain by parent hash, storage proofs of the
// head verify against its header's new_root, and after a graceful stop the LevelDB
// directory is reopened here and every root is recomputed from the flat state with the
// reference (JS) hash backend, independently of the node's trie code and native backend.
//
// Client behaviour modelled: a transaction sent but not acknowledged (the connection died
// with the node) is re-sent after the restart if the node does not know it — exactly the
// same signed transaction, so its hash is unchanged.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hash } from "starknet";
import { Column, columnRange, readFelt } from "../../state/columns.js";
import { LevelKvStore } from "../../state/level-store.js";
import { computeRootFromLeaves } from "../../state/patricia-trie.js";
import { classLeafHash, contractStateHash, globalStateRoot, STATE_TRIE_HEIGHT } from "../../state/state-commitment.js";
import { verifyStorageProof, type StorageProofResult } from "../../state/storage-proof.js";
import { WorldState } from "../../state/world-state.js";
import { seededRandom } from "../support/seeded-random.js";
import {
  kill9,
  killAllChildren,
  rpc,
  rpcBatch,
  RpcCallError,
  signedTransfer,
  sleep,
  spawnNode,
  startNodeProcess,
  stopGracefully,
  type ChildNode,
  type PredeployedAccount,
} from "./child-node.js";

const SEED = 7;
const ACCOUNTS = 4;
/** Kills while transactions are in flight (the requirement is at least 50). */
const KILLS_UNDER_LOAD = 50;
/** Every n-th iteration also kills a node during its start-up (recovery). */
const STARTUP_KILL_EVERY = 5;
const PRNG_SEED = 0x5eed_9;

interface SentTx {
  hash: string;
  tx: Record<string, unknown>;
  account: number;
  nonce: bigint;
  acked: boolean;
}

const dbPath = mkdtempSync(join(tmpdir(), "perpchain-kill9-"));

afterAll(async () => {
  await killAllChildren();
  rmSync(dbPath, { recursive: true, force: true });
});

describe("kill -9 at random instants", () => {
  it(
    `loses no acknowledged transaction over ${KILLS_UNDER_LOAD} kills under load, and the state stays consistent`,
    async () => {
      const t0 = performance.now();
      const rng = seededRandom(PRNG_SEED);
      const startups_ms: number[] = [];
      const start = async (): Promise<ChildNode> => {
        const n = await spawnNode({ dbPath, seed: SEED, accounts: ACCOUNTS });
        startups_ms.push(n.startup_ms);
        const ready = await fetch(`${n.baseUrl}/ready`);
        expect(ready.status, `GET /ready after restart ${startups_ms.length}`).toBe(200);
        return n;
      };

      let node = await start();
      const accounts = await rpc<PredeployedAccount[]>(node.rpcUrl, "devnet_getPredeployedAccounts");
      const config = await rpc<{ fee_token_address: string; epoch: number }>(node.rpcUrl, "devnet_getConfig");
      const chainId = await rpc<string>(node.rpcUrl, "starknet_chainId");
      expect(accounts).toHaveLength(ACCOUNTS);
      const strk = config.fee_token_address;

      const sent: SentTx[] = [];
      const nextNonce = accounts.map(() => 0n);
      let killsUnderLoad = 0;
      let killsDuringStartup = 0;
      let acksBeforeKill = 0;
      let resent = 0;
      let loggedButUnacked = 0;
      const refusals: string[] = [];
      const lostAfterRestart: string[] = [];
      let lastEpoch = config.epoch;

      for (let iteration = 0; iteration < KILLS_UNDER_LOAD; iteration++) {
        // 1. After the restart: acknowledged ⇒ in a block or still pending.
        lostAfterRestart.push(...(await unaccountedAcked(node.rpcUrl, sent)));
        const epoch = (await rpc<{ epoch: number }>(node.rpcUrl, "devnet_getConfig")).epoch;
        if (iteration > 0) expect(epoch, "each start takes a new epoch").toBeGreaterThan(lastEpoch);
        lastEpoch = epoch;

        // 2. Re-send what was sent but never acknowledged and is unknown to the node.
        const r = await resendUnknown(node.rpcUrl, sent);
        resent += r.resent;
        loggedButUnacked += r.alreadyKnown;

        // 3. A burst of new transfers, all in flight at once, and a kill at a random instant.
        const burst: SentTx[] = [];
        for (let a = 0; a < ACCOUNTS; a++) {
          const count = 1 + rng.int(6);
          for (let k = 0; k < count; k++) {
            const to = accounts[(a + 1 + rng.int(ACCOUNTS - 1)) % ACCOUNTS]!.address;
            const t = signedTransfer({ from: accounts[a]!, to, token: strk, amount: BigInt(1 + rng.int(1_000_000)), nonce: nextNonce[a]!, chainId });
            nextNonce[a]!++;
            burst.push({ hash: t.hash, tx: t.tx, account: a, nonce: BigInt(t.tx.nonce as string), acked: false });
          }
        }
        rng.shuffle(burst);
        sent.push(...burst);
        const killAt_ms = rng.int(120);
        const url = node.rpcUrl;
        const sends = burst.map(async (s) => {
          await sleep(rng.int(60));
          try {
            const res = await rpc<{ transaction_hash: string }>(url, "starknet_addInvokeTransaction", [s.tx], 5_000);
            if (res.transaction_hash !== s.hash) refusals.push(`${s.hash}: acknowledged under another hash ${res.transaction_hash}`);
            s.acked = true;
            acksBeforeKill++;
          } catch (e) {
            if (e instanceof RpcCallError) refusals.push(`${s.hash}: ${e.code} ${e.message} ${JSON.stringify(e.data)}`);
            // otherwise the connection died with the node: not acknowledged
          }
        });
        await sleep(killAt_ms);
        await kill9(node);
        killsUnderLoad++;
        await Promise.all(sends);

        // 4. Sometimes kill the next process during its start-up (recovery, epoch write).
        if (iteration % STARTUP_KILL_EVERY === STARTUP_KILL_EVERY - 1) {
          const p = await startNodeProcess({ dbPath, seed: SEED, accounts: ACCOUNTS });
          await sleep(rng.int(1_000)); // start-up takes ~0.7-1 s here: tsx loading, recovery, WAL replay
          await kill9(p);
          killsDuringStartup++;
        }
        node = await start();
      }

      // Settle: re-send the unknown ones, then wait (bounded) until every acknowledged tx is in a block.
      lostAfterRestart.push(...(await unaccountedAcked(node.rpcUrl, sent)));
      const final = await resendUnknown(node.rpcUrl, sent);
      resent += final.resent;
      loggedButUnacked += final.alreadyKnown;
      expect(sent.every((s) => s.acked)).toBe(true);
      const settleDeadline = performance.now() + 30_000;
      let notIncluded = sent.map((s) => s.hash);
      while (notIncluded.length > 0 && performance.now() < settleDeadline) {
        const statuses = await rpcBatch(
          node.rpcUrl,
          notIncluded.map((h) => ({ method: "starknet_getTransactionStatus", params: [h] })),
        );
        notIncluded = notIncluded.filter((_, i) => (statuses[i]!.result as { finality_status?: string } | undefined)?.finality_status !== "ACCEPTED_ON_L2");
        if (notIncluded.length > 0) await sleep(50);
      }

      expect(refusals).toEqual([]);
      expect(lostAfterRestart).toEqual([]);
      expect(notIncluded).toEqual([]);

      // Every transaction succeeded, sits in exactly one block, and the blocks chain.
      const head = await rpc<number>(node.rpcUrl, "starknet_blockNumber");
      const blocks = (await rpcBatch(
        node.rpcUrl,
        Array.from({ length: head + 1 }, (_, n) => ({ method: "starknet_getBlockWithTxs", params: [{ block_number: n }] })),
      )).map((r) => r.result as { block_hash: string; parent_hash: string; block_number: number; new_root: string; transactions: Array<{ transaction_hash: string; sender_address: string }> });
      for (let n = 1; n <= head; n++) expect(blocks[n]!.parent_hash, `parent of block ${n}`).toBe(blocks[n - 1]!.block_hash);
      // The node's own operator (market data) transactions are in blocks too; count ours.
      const ours = new Set(accounts.map((a) => BigInt(a.address)));
      const included = blocks.flatMap((b) => b.transactions.filter((t) => ours.has(BigInt(t.sender_address))).map((t) => t.transaction_hash));
      expect(included.length).toBe(new Set(included).size);
      const operatorTxs = blocks.flatMap((b) => b.transactions.filter((t) => !ours.has(BigInt(t.sender_address))).map((t) => t.transaction_hash));
      const operatorReceipts = await rpcBatch(node.rpcUrl, operatorTxs.map((h) => ({ method: "starknet_getTransactionReceipt", params: [h] })));
      const operatorReverted = operatorReceipts.filter((r) => (r.result as { execution_status?: string }).execution_status !== "SUCCEEDED").map((r) => r.result);
      const sentHashes = new Set(sent.map((s) => s.hash));
      const includedHashes = new Set(included);
      expect(included.filter((h) => !sentHashes.has(h)), "included but never sent").toEqual([]);
      expect(sent.filter((s) => !includedHashes.has(s.hash)).map((s) => s.hash), "sent but not included").toEqual([]);
      const receipts = await rpcBatch(node.rpcUrl, sent.map((s) => ({ method: "starknet_getTransactionReceipt", params: [s.hash] })));
      expect(receipts.filter((r) => (r.result as { execution_status?: string }).execution_status !== "SUCCEEDED")).toEqual([]);
      for (let a = 0; a < ACCOUNTS; a++) {
        const nonce = await rpc<string>(node.rpcUrl, "starknet_getNonce", ["latest", accounts[a]!.address]);
        expect(BigInt(nonce), `nonce of account ${a}`).toBe(nextNonce[a]!);
      }

      // Storage proofs of the head (fee token balances of every account) verify against new_root.
      const headBlock = blocks[head]!;
      const balanceKeys = accounts.map((a) => BigInt(hash.computePedersenHash(hash.starknetKeccak("ERC20_balances"), a.address)));
      const proofReq = {
        classHashes: [],
        contractAddresses: [BigInt(strk), ...accounts.map((a) => BigInt(a.address))],
        contractsStorageKeys: [{ contractAddress: BigInt(strk), storageKeys: balanceKeys }],
      };
      const proof = await rpc<StorageProofResult>(node.rpcUrl, "starknet_getStorageProof", {
        block_id: { block_number: head },
        contract_addresses: proofReq.contractAddresses.map(hex),
        contracts_storage_keys: [{ contract_address: strk, storage_keys: balanceKeys.map(hex) }],
      });
      const verified = verifyStorageProof(proof, proofReq, BigInt(headBlock.new_root));
      for (let a = 0; a < ACCOUNTS; a++) {
        const stored = await rpc<string>(node.rpcUrl, "starknet_getStorageAt", [strk, hex(balanceKeys[a]!), { block_number: head }]);
        expect(verified.storage[a]!.value).toBe(BigInt(stored));
        expect(verified.contracts[a + 1]!.record.nonce).toBe(nextNonce[a]!);
      }

      // Graceful stop, then recompute every root from the flat state on disk.
      expect(await stopGracefully(node)).toBe(0);
      const store = await LevelKvStore.open(dbPath);
      try {
        const world = await WorldState.open(store);
        const roots = world.head()!.roots;
        expect(world.head()!.blockNumber).toBe(head);
        expect(world.head()!.blockHash).toBe(BigInt(headBlock.block_hash));
        const contractLeaves = new Map<bigint, bigint>();
        for (const address of world.contractAddresses()) {
          const record = world.getContract(address);
          const storageRoot = await computeRootFromLeaves(STATE_TRIE_HEIGHT, "pedersen", world.storageEntries(address));
          expect(storageRoot, `storage root of ${hex(address)}`).toBe(record.storageRoot);
          contractLeaves.set(address, contractStateHash(record));
        }
        const classLeaves = new Map<bigint, bigint>();
        for await (const [k, v] of store.iterator(columnRange(Column.flatClass))) classLeaves.set(readFelt(k, 1), classLeafHash(readFelt(v)));
        const contractsRoot = await computeRootFromLeaves(STATE_TRIE_HEIGHT, "pedersen", contractLeaves);
        const classesRoot = await computeRootFromLeaves(STATE_TRIE_HEIGHT, "poseidon", classLeaves);
        expect(contractsRoot).toBe(roots.contractsRoot);
        expect(classesRoot).toBe(roots.classesRoot);
        expect(globalStateRoot(contractsRoot, classesRoot)).toBe(BigInt(headBlock.new_root));
      } finally {
        await store.close();
      }

      const figures = {
        kills: killsUnderLoad + killsDuringStartup,
        kills_under_load: killsUnderLoad,
        kills_during_startup: killsDuringStartup,
        txs_sent: sent.length,
        txs_acknowledged: sent.length,
        acks_before_kill: acksBeforeKill,
        resent_after_restart: resent,
        logged_but_unacknowledged: loggedButUnacked,
        txs_lost: lostAfterRestart.length + notIncluded.length,
        status_not_found_while_included: statusRaces.length,
        blocks: head + 1,
        operator_txs: operatorTxs.length,
        operator_txs_reverted: operatorReverted.length,
        startup_ms: summary(startups_ms),
        duration_s: Math.round((performance.now() - t0) / 100) / 10,
      };
      console.log(JSON.stringify({ event: "kill9_drill", ...figures }));
      expect(figures.kills).toBeGreaterThanOrEqual(50);
      expect(operatorReverted).toEqual([]);
    },
    300_000,
  );
});

type Whereabouts = "block" | "pending" | "unknown";

/** Hashes answered "not found" by getTransactionStatus while a receipt existed right after (see whereabouts). */
const statusRaces: string[] = [];

/**
 * Where the node has each transaction: "block" (a receipt, SUCCEEDED), "pending" (RECEIVED)
 * or "unknown". A "not found" status is followed by a receipt lookup: the node answers
 * getTransactionStatus by reading its chain store and then its mempool, so a tx moving
 * from the mempool into a block while the status is computed is reported as not found
 * (sequencer/rpc/starknet-methods.ts getStatus; reported). The receipt asked after that
 * answer finds it; a transaction that is really gone has neither.
 */
async function whereabouts(url: string, txs: SentTx[]): Promise<Whereabouts[]> {
  if (txs.length === 0) return [];
  const statuses = await rpcBatch(url, txs.map((s) => ({ method: "starknet_getTransactionStatus", params: [s.hash] })));
  const out: Whereabouts[] = statuses.map((r) => {
    const st = r.result as { finality_status?: string; execution_status?: string } | undefined;
    if (st?.finality_status === "ACCEPTED_ON_L2" && st.execution_status === "SUCCEEDED") return "block";
    if (st?.finality_status === "RECEIVED" && st.execution_status === undefined) return "pending";
    if (r.error?.code !== TXN_HASH_NOT_FOUND) throw new Error(`unexpected status ${JSON.stringify(r.result ?? r.error)}`);
    return "unknown";
  });
  const notFound = txs.filter((_, i) => out[i] === "unknown");
  const receipts = await rpcBatch(url, notFound.map((s) => ({ method: "starknet_getTransactionReceipt", params: [s.hash] })));
  receipts.forEach((r, j) => {
    if (r.error?.code === TXN_HASH_NOT_FOUND) return;
    const receipt = r.result as { execution_status?: string } | undefined;
    if (receipt?.execution_status !== "SUCCEEDED") throw new Error(`unexpected receipt ${JSON.stringify(r.result ?? r.error)}`);
    statusRaces.push(notFound[j]!.hash);
    out[txs.indexOf(notFound[j]!)] = "block";
  });
  return out;
}

const TXN_HASH_NOT_FOUND = 29;

/** Acknowledged transactions the node has neither in a block nor as pending. */
async function unaccountedAcked(url: string, sent: SentTx[]): Promise<string[]> {
  const acked = sent.filter((s) => s.acked);
  const where = await whereabouts(url, acked);
  return acked.filter((_, i) => where[i] === "unknown").map((s) => s.hash);
}

/** Re-send (same signed tx) every unacknowledged transaction the node does not know. */
async function resendUnknown(url: string, sent: SentTx[]): Promise<{ resent: number; alreadyKnown: number }> {
  const unacked = sent.filter((s) => !s.acked).sort((a, b) => a.account - b.account || Number(a.nonce - b.nonce));
  const where = await whereabouts(url, unacked);
  let resent = 0;
  let alreadyKnown = 0;
  for (let i = 0; i < unacked.length; i++) {
    const s = unacked[i]!;
    if (where[i] !== "unknown") {
      // It reached the WAL before the kill, only the answer was lost.
      s.acked = true;
      alreadyKnown++;
      continue;
    }
    const res = await rpc<{ transaction_hash: string }>(url, "starknet_addInvokeTransaction", [s.tx]);
    expect(res.transaction_hash).toBe(s.hash);
    s.acked = true;
    resent++;
  }
  return { resent, alreadyKnown };
}

function hex(v: bigint): string {
  return "0x" + v.toString(16);
}

function summary(xs: number[]): { min: number; median: number; max: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: Math.round(s[0]!), median: Math.round(s[Math.floor(s.length / 2)]!), max: Math.round(s[s.length - 1]!), n: s.length };
}
