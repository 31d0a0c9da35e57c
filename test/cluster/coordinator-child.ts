// A coordinator in a process of its own, for the fault tests that need a real process to
// kill -9 or SIGSTOP: it campaigns until it leads (bounded), then commits one block every
// 100 ms on top of the etcd head, printing one JSON line per event on stdout:
//   {"event":"leader","token":"42"} · {"event":"committed","n":7,"at_ms":...}
//   {"event":"refused","n":8,"error":"..."}   (then it exits 0)
// Arguments: one JSON object {endpoints, chainId, nodeId, leaseTtlS}.
// Never runs longer than 60 s.

import { ClusterCoordinator } from "../../sequencer/cluster/coordinator.js";
import { fakeBlock } from "./fake-block.js";

const args = JSON.parse(process.argv[2]!) as { endpoints: string[]; chainId: string; nodeId: string; leaseTtlS: number };
const say = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify({ ...o, at_ms: Date.now() }) + "\n");
const c = ClusterCoordinator.create({ endpoints: args.endpoints, chainId: args.chainId, nodeId: args.nodeId, rpcUrl: "http://127.0.0.1:1/rpc", leaseTtlS: args.leaseTtlS, callDeadlineMs: 500 });
setTimeout(() => process.exit(3), 60_000).unref();

let token: string | null = null;
for (let i = 0; i < 200 && token === null; i++) {
  token = await c.campaign(await c.head()).catch(() => null);
  if (token === null) await new Promise((r) => setTimeout(r, 50));
}
if (token === null) {
  say({ event: "never_leader" });
  process.exit(2);
}
say({ event: "leader", token });
const tick = async (): Promise<void> => {
  const n = (await c.head().catch(() => -1)) + 1;
  if (n === 0) return void setTimeout(tick, 100);
  try {
    await c.commitBlock(fakeBlock(n, args.nodeId, token!));
    say({ event: "committed", n });
    setTimeout(tick, 100);
  } catch (e) {
    say({ event: "refused", n, error: (e as Error).message });
    c.close();
    process.exit(0);
  }
};
void tick();
