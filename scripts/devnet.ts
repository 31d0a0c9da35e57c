// CLI: npm start -- [options]   (see --help). Thin: parsing and the node live in sequencer/.

import { selectHashBackend } from "../state/crypto/select-backend.js";
import { startDevnet } from "../sequencer/devnet.js";
import { CliError, DEVNET_HELP, devnetBanner, parseDevnetArgs } from "../sequencer/devnet-cli.js";

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseDevnetArgs(process.argv.slice(2), () => Math.floor(Math.random() * 2 ** 31));
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(DEVNET_HELP);
    return;
  }
  const backend = selectHashBackend({ prefer: opts.hashBackend });
  const log = opts.verbose ? (event: string, fields?: Record<string, unknown>) => process.stderr.write(JSON.stringify({ event, ...fields }) + "\n") : undefined;
  const devnet = await startDevnet({ ...opts, log });
  process.stdout.write(devnetBanner(devnet, backend.logLine) + "\n");
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: finishing the block in progress and closing the store...\n`);
    devnet.stop().then(
      () => process.exit(0),
      (e) => {
        process.stderr.write(`shutdown failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((e) => {
  process.stderr.write(`perpchain: ${(e as Error).message}\n`);
  process.exit(1);
});
