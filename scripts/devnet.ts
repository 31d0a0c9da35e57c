// CLI: npm start -- [options]   (see --help). Thin: parsing and the node live in sequencer/.

import { selectHashBackend } from "../state/crypto/select-backend.js";
import { startDevnet } from "../sequencer/devnet.js";
import { CliError, DEVNET_HELP, devnetBanner, parseDevnetArgs } from "../sequencer/devnet-cli.js";
import { createNodeLogging, logLevelOf } from "../sequencer/log.js";

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
  const logging = createNodeLogging(logLevelOf(opts));
  // A crash is logged as one structured line and still ends the process: continuing after an
  // unknown failure could write a corrupt block. Request paths turn errors into RPC errors.
  const die = (event: string) => (e: unknown) => {
    logging.logger.fatal({ event, error: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : String(e) });
    process.exit(1);
  };
  process.on("uncaughtException", die("uncaught_exception"));
  process.on("unhandledRejection", die("unhandled_rejection"));
  const devnet = await startDevnet({ ...opts, log: logging.nodeLog, errorLogger: logging.errorLogger });
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
