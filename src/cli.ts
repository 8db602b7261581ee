#!/usr/bin/env node
import fs from 'node:fs/promises';
import path from 'node:path';
import { startNode, type Role } from './app.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { modelFileState } from './models/files.js';
import { loadManifests } from './models/manifest.js';
import { ensureModels, ModelPullError } from './models/pull.js';
import { createLogger } from './observability/logger.js';

const USAGE = `pixveil — blur faces and licence plates, detect objects

Usage:
  pixveil serve                 API and workers in one process (default)
  pixveil api                   API only (needs REDIS_URL)
  pixveil worker                workers only (needs REDIS_URL)
  pixveil process <dir> [out]   anonymize every image in <dir> into [out] (default <dir>/anonymized)
  pixveil models list           models known to this install and whether their files are present
  pixveil models pull [name…]   download the configured (or named) models into MODEL_DIR
  pixveil dlq list|retry [id…]  inspect or requeue dead-lettered jobs (Redis mode)
  pixveil keys hash <tenant> [key]
                                print an API_KEYS_FILE line (makes a key when none is given)

Configuration comes from environment variables; see the README.`;

// Past SHUTDOWN_GRACE_MS: time for the pool's last tasks and closing connections.
const SHUTDOWN_BACKSTOP_MS = 10_000;

async function runRole(config: Config, role: Role): Promise<void> {
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
  process.once('SIGINT', () => stop('SIGINT'));
}

async function models(config: Config, args: string[]): Promise<void> {
  const manifests = loadManifests(process.env.MODEL_MANIFEST_DIR);
  const [sub, ...names] = args;
  if (sub === 'list') {
    for (const m of manifests.values()) {
      const state = await modelFileState(config.modelDir, m);
      console.log(`${m.name.padEnd(22)} ${m.task.padEnd(8)} ${state.padEnd(18)} ${m.license.padEnd(11)} ${m.source.url}`);
    }
    console.log(`MODEL_DIR=${config.modelDir}`);
    return;
  }
  if (sub !== 'pull') throw new ConfigError(`Unknown models command ${JSON.stringify(sub)}: use "models list" or "models pull"`);
  const wanted = names.length > 0 ? names : [config.faceModel, config.objectModel, config.plateModel].filter(Boolean);
  const selected = wanted.map((name) => manifests.get(name) ?? (() => { throw new ConfigError(`Unknown model ${name}: known are ${[...manifests.keys()].join(', ')}`); })());
  await ensureModels(config.modelDir, selected, { pull: true, progress: process.stderr, mirror: process.env.MODEL_MIRROR || undefined });
  console.log(`models ready in ${config.modelDir}: ${selected.map((m) => m.name).join(', ')}`);
}

async function processDir(config: Config, dir: string, out?: string): Promise<void> {
  const { processDirectory } = await import('./pipeline/process-directory.js');
  const target = out ?? path.join(dir, 'anonymized');
  const summary = await processDirectory(config, dir, target);
  console.log(JSON.stringify(summary, null, 2));
  if (summary.failed > 0) process.exitCode = 1;
}

async function dlq(config: Config, args: string[]): Promise<void> {
  const { runDeadLetterCommand } = await import('./queue/dead-letter-cli.js');
  await runDeadLetterCommand(config, args);
}

async function keys(args: string[]): Promise<void> {
  const [sub, tenant, given] = args;
  if (sub !== 'hash' || !tenant) throw new ConfigError('Usage: pixveil keys hash <tenant> [key]');
  const { keysFileLine, newApiKey } = await import('./auth/hash-key.js');
  const key = given ?? newApiKey();
  // The key goes to stderr, the file line to stdout, so `>> keys.txt` stores only the hash.
  if (!given) console.error(`key for ${tenant} (give it to the client; it is not stored): ${key}`);
  console.log(keysFileLine(tenant, key));
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === 'keys') return keys(rest);
  const config = loadConfig();
  switch (command) {
    case 'serve':
    case 'api':
    case 'worker':
      return runRole(config, command);
    case 'models':
      return models(config, rest);
    case 'process':
      if (!rest[0]) throw new ConfigError('Usage: pixveil process <dir> [out]');
      await fs.access(rest[0]);
      return processDir(config, rest[0], rest[1]);
    case 'dlq':
      return dlq(config, rest);
    default:
      throw new ConfigError(`Unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  const known = err instanceof ConfigError || err instanceof ModelPullError;
  console.error(`pixveil: ${known ? err.message : (err as Error).stack ?? String(err)}`);
  process.exit(known ? 2 : 1);
});
