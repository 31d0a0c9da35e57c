// A well-formed BLOCK_HEADER (RPC 0.10.3 shape) for transport tests that need one.

export function sampleBlockHeader(n: number): Record<string, unknown> {
  return {
    block_hash: "0x" + (1000 + n).toString(16),
    parent_hash: "0x" + (999 + n).toString(16),
    block_number: n,
    new_root: "0x1",
    timestamp: 1_700_000_000 + n,
    sequencer_address: "0x1",
    l1_gas_price: { price_in_fri: "0x1", price_in_wei: "0x1" },
    l2_gas_price: { price_in_fri: "0x1", price_in_wei: "0x1" },
    l1_data_gas_price: { price_in_fri: "0x1", price_in_wei: "0x1" },
    l1_da_mode: "BLOB",
    starknet_version: "0.14.0",
    event_commitment: "0x0",
    transaction_commitment: "0x0",
    receipt_commitment: "0x0",
    state_diff_commitment: "0x0",
    event_count: 0,
    transaction_count: 0,
    state_diff_length: 0,
  };
}
