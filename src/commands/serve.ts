import type { Config } from '../config/config.js';
import { createLogger } from '../observability/logger.js';
import { startNode, type Role } from './node.js';

// Past SHUTDOWN_GRACE_MS: time for the pool's last tasks and closing connections.
const SHUTDOWN_BACKSTOP_MS = 10_000;

/** `pixveil serve | api | worker`: runs the node until SIGTERM or SIGINT, then shuts it down within the grace. */
export async function runRole(config: Config, role: Role): Promise<void> {
  const log = createLogger(config.logLevel);
  const node = await startNode(config, role, log);
  const stop = (signal: string) => {
    log.info('shutting down', { signal, grace_ms: config.shutdownGraceMs });
    // Backstop for a close() stuck on I/O: an orchestrator would SIGKILL us anyway, later.
    setTimeout(() => {
      log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_BACKSTOP_MS).unref();
    node.close().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => {
    // Ctrl-C at a terminal: one plain line whatever LOG_LEVEL is; a second Ctrl-C ends the process at once.
    process.stderr.write(`pixveil: stopping (Ctrl-C): draining jobs in hand for up to ${Math.round(config.shutdownGraceMs / 1000)} s; press Ctrl-C again to quit now\n`);
    stop('SIGINT');
  });
}
