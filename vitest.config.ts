import { spawnSync } from "node:child_process";
import { configDefaults, defineConfig } from "vitest/config";

// The cluster suite (test/cluster/) runs real etcd members: without the `etcd` binary it
// cannot run. Say so in one line, and fail the run when CI is set (CI installs etcd).
const etcdInstalled = spawnSync("sh", ["-c", "command -v etcd"]).status === 0;
if (!etcdInstalled) {
  const line = "cluster suite (test/cluster/) did NOT run: etcd is not installed (apt-get install etcd-server etcd-client)";
  if (process.env.CI) throw new Error(`${line}; failing because CI is set`);
  console.warn(line);
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: etcdInstalled ? configDefaults.exclude : [...configDefaults.exclude, "test/cluster/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
