#!/usr/bin/env node
// Builds the native crypto addon (binding.gyp -> build/Release/perpchain_crypto.node) with the
// node-gyp that ships inside npm. Never fails the install: without a compiler or headers it
// prints one line and exits 0, and perpchain runs on the @scure/starknet reference backend.
// Works offline when Node headers are available (npm's `nodedir` config or <prefix>/include/node).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const verbose = process.argv.includes("--verbose");

function findNodeGyp() {
  const prefix = resolve(dirname(process.execPath), "..");
  const candidates = [
    process.env.npm_config_node_gyp,
    join(prefix, "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"),
    join(dirname(process.execPath), "node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"), // Windows layout
    join(root, "node_modules/node-gyp/bin/node-gyp.js"),
  ];
  return candidates.find((p) => p && existsSync(p));
}

function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), "..");
  return existsSync(join(prefix, "include/node/node_api.h")) ? prefix : undefined;
}

function skip(reason) {
  console.log(`perpchain: native crypto addon not built (${reason}); using the JS reference backend`);
  process.exit(0);
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) skip("node-gyp not found");
const args = [nodeGyp, "rebuild", "--release"];
const nodedir = findNodeDir();
if (nodedir) args.push(`--nodedir=${nodedir}`);
const started = Date.now();
const res = spawnSync(process.execPath, args, {
  cwd: root,
  stdio: verbose ? "inherit" : ["ignore", "pipe", "pipe"],
  encoding: "utf8",
  timeout: 10 * 60 * 1000,
});
if (res.error || res.status !== 0) {
  const tail = `${res.stderr ?? ""}`.trim().split("\n").filter((l) => /error/i.test(l)).slice(-1)[0];
  skip(res.error ? res.error.message : `node-gyp exited with ${res.status}${tail ? `: ${tail.trim().slice(0, 160)}` : ""}`);
}
const built = join(root, "build/Release/perpchain_crypto.node");
if (!existsSync(built)) skip("node-gyp reported success but produced no addon");
console.log(`perpchain: native crypto addon built in ${((Date.now() - started) / 1000).toFixed(1)} s (${built})`);
