// The cluster flags of `npm start`: --cluster-etcd URLS --node-id ID [--lease-ttl S], all
// three checked strictly, and cluster mode refusing a random seed (members must share the
// genesis).

import { describe, expect, it } from "vitest";
import { CliError, parseDevnetArgs } from "../../sequencer/devnet-cli.js";

const parse = (...a: string[]) => parseDevnetArgs(a, () => 99);

describe("cluster flags", () => {
  it("parses etcd URLs, node id and lease TTL", () => {
    const o = parse("--seed", "1", "--cluster-etcd", "http://127.0.0.1:2379,http://127.0.0.1:2380", "--node-id", "n1", "--lease-ttl", "2");
    expect(o.cluster).toEqual({ etcd: ["http://127.0.0.1:2379", "http://127.0.0.1:2380"], nodeId: "n1", leaseTtlS: 2 });
  });

  it("without --cluster-etcd the node is the single embedded node", () => {
    expect(parse("--seed", "1").cluster).toBeUndefined();
  });

  it("refuses incomplete or malformed cluster flags with one clear message", () => {
    expect(() => parse("--seed", "1", "--cluster-etcd", "http://127.0.0.1:2379")).toThrow(new CliError("--cluster-etcd needs --node-id"));
    expect(() => parse("--seed", "1", "--node-id", "n1")).toThrow(new CliError("--node-id and --lease-ttl need --cluster-etcd"));
    expect(() => parse("--cluster-etcd", "http://127.0.0.1:2379", "--node-id", "n1")).toThrow(/needs --seed/);
    expect(() => parse("--seed", "1", "--cluster-etcd", "127.0.0.1:2379", "--node-id", "n1")).toThrow(/comma-separated etcd URLs/);
    expect(() => parse("--seed", "1", "--cluster-etcd", "http://127.0.0.1:2379", "--node-id", "n 1")).toThrow(/--node-id expects/);
    expect(() => parse("--seed", "1", "--cluster-etcd", "http://127.0.0.1:2379", "--node-id", "n1", "--lease-ttl", "0")).toThrow(/--lease-ttl is out of range/);
  });
});
