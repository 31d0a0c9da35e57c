// The methods of Starknet JSON-RPC 0.10.3 and their parameter names, in spec order.
// Generated from the OpenRPC documents (test/vectors/spec/*.json) and kept here as data so the
// runtime does not read spec files; test/unit/rpc-spec-methods.test.ts fails if it drifts.
//
// params: names in positional order; a trailing "?" marks an optional parameter.
// kind: "call" (HTTP and WS), "ws" (WebSocket only: subscriptions), "notification" (server → client).
// unexpectedError: the spec lists 63 UNEXPECTED_ERROR for the method (the write API).

export const SPEC_VERSION = "0.10.3";

export type SpecMethodKind = "call" | "ws" | "notification";

export interface SpecMethod {
  readonly file: string;
  readonly kind: SpecMethodKind;
  readonly params: readonly string[];
  readonly unexpectedError: boolean;
}

export const SPEC_METHODS: Readonly<Record<string, SpecMethod>> = {
  starknet_specVersion: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: [],
    unexpectedError: false,
  },
  starknet_getBlockWithTxHashes: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id"],
    unexpectedError: false,
  },
  starknet_getBlockWithTxs: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "response_flags?"],
    unexpectedError: false,
  },
  starknet_getBlockWithReceipts: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "response_flags?"],
    unexpectedError: false,
  },
  starknet_getStateUpdate: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "contract_addresses?"],
    unexpectedError: false,
  },
  starknet_getStorageAt: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["contract_address", "key", "block_id", "response_flags?"],
    unexpectedError: false,
  },
  starknet_getTransactionStatus: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["transaction_hash"],
    unexpectedError: false,
  },
  starknet_getMessagesStatus: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["transaction_hash"],
    unexpectedError: false,
  },
  starknet_getTransactionByHash: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["transaction_hash", "response_flags?"],
    unexpectedError: false,
  },
  starknet_getTransactionByBlockIdAndIndex: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "index", "response_flags?"],
    unexpectedError: false,
  },
  starknet_getTransactionReceipt: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["transaction_hash"],
    unexpectedError: false,
  },
  starknet_getClass: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "class_hash"],
    unexpectedError: false,
  },
  starknet_getClassHashAt: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "contract_address"],
    unexpectedError: false,
  },
  starknet_getClassAt: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "contract_address"],
    unexpectedError: false,
  },
  starknet_getBlockTransactionCount: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id"],
    unexpectedError: false,
  },
  starknet_call: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["request", "block_id"],
    unexpectedError: false,
  },
  starknet_estimateFee: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["request", "simulation_flags", "block_id"],
    unexpectedError: false,
  },
  starknet_estimateMessageFee: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["message", "block_id"],
    unexpectedError: false,
  },
  starknet_blockNumber: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: [],
    unexpectedError: false,
  },
  starknet_blockHashAndNumber: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: [],
    unexpectedError: false,
  },
  starknet_chainId: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: [],
    unexpectedError: false,
  },
  starknet_syncing: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: [],
    unexpectedError: false,
  },
  starknet_getEvents: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["filter"],
    unexpectedError: false,
  },
  starknet_getNonce: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "contract_address"],
    unexpectedError: false,
  },
  starknet_getStorageProof: {
    file: "starknet_api_openrpc.json",
    kind: "call",
    params: ["block_id", "class_hashes?", "contract_addresses?", "contracts_storage_keys?"],
    unexpectedError: false,
  },
  starknet_traceTransaction: {
    file: "starknet_trace_api_openrpc.json",
    kind: "call",
    params: ["transaction_hash"],
    unexpectedError: false,
  },
  starknet_simulateTransactions: {
    file: "starknet_trace_api_openrpc.json",
    kind: "call",
    params: ["block_id", "transactions", "simulation_flags"],
    unexpectedError: false,
  },
  starknet_traceBlockTransactions: {
    file: "starknet_trace_api_openrpc.json",
    kind: "call",
    params: ["block_id", "trace_flags?"],
    unexpectedError: false,
  },
  starknet_addInvokeTransaction: {
    file: "starknet_write_api.json",
    kind: "call",
    params: ["invoke_transaction"],
    unexpectedError: true,
  },
  starknet_addDeclareTransaction: {
    file: "starknet_write_api.json",
    kind: "call",
    params: ["declare_transaction"],
    unexpectedError: true,
  },
  starknet_addDeployAccountTransaction: {
    file: "starknet_write_api.json",
    kind: "call",
    params: ["deploy_account_transaction"],
    unexpectedError: true,
  },
  starknet_getCompiledCasm: {
    file: "starknet_executables.json",
    kind: "call",
    params: ["class_hash"],
    unexpectedError: false,
  },
  starknet_subscribeNewHeads: {
    file: "starknet_ws_api.json",
    kind: "ws",
    params: ["block_id?"],
    unexpectedError: false,
  },
  starknet_subscriptionNewHeads: {
    file: "starknet_ws_api.json",
    kind: "notification",
    params: ["subscription_id?", "result?"],
    unexpectedError: false,
  },
  starknet_subscribeEvents: {
    file: "starknet_ws_api.json",
    kind: "ws",
    params: ["from_address?", "keys?", "block_id?", "finality_status?"],
    unexpectedError: false,
  },
  starknet_subscriptionEvents: {
    file: "starknet_ws_api.json",
    kind: "notification",
    params: ["subscription_id?", "result?"],
    unexpectedError: false,
  },
  starknet_subscribeTransactionStatus: {
    file: "starknet_ws_api.json",
    kind: "ws",
    params: ["transaction_hash"],
    unexpectedError: false,
  },
  starknet_subscriptionTransactionStatus: {
    file: "starknet_ws_api.json",
    kind: "notification",
    params: ["subscription_id?", "result?"],
    unexpectedError: false,
  },
  starknet_subscribeNewTransactionReceipts: {
    file: "starknet_ws_api.json",
    kind: "ws",
    params: ["finality_status?", "sender_address?"],
    unexpectedError: false,
  },
  starknet_subscriptionNewTransactionReceipts: {
    file: "starknet_ws_api.json",
    kind: "notification",
    params: ["subscription_id?", "result?"],
    unexpectedError: false,
  },
  starknet_subscribeNewTransactions: {
    file: "starknet_ws_api.json",
    kind: "ws",
    params: ["finality_status?", "sender_address?", "tags?"],
    unexpectedError: false,
  },
  starknet_subscriptionNewTransaction: {
    file: "starknet_ws_api.json",
    kind: "notification",
    params: ["subscription_id?", "result?"],
    unexpectedError: false,
  },
  starknet_subscriptionReorg: {
    file: "starknet_ws_api.json",
    kind: "notification",
    params: ["subscription_id?", "result?"],
    unexpectedError: false,
  },
  starknet_unsubscribe: {
    file: "starknet_ws_api.json",
    kind: "ws",
    params: ["subscription_id"],
    unexpectedError: false,
  },
};
