#!/usr/bin/env node
// Reads the command line and hands it to src/commands/; every command's work lives there.
import { ConfigError, loadConfig } from './config/config.js';
import { ModelPullError } from './models/pull.js';

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

// Commands are imported when run, so `pixveil keys` or `process` loads no HTTP server or Redis client.
async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  if (command === 'keys') return (await import('./commands/keys.js')).runKeysCommand(rest);
  const config = loadConfig();
  switch (command) {
    case 'serve':
    case 'api':
    case 'worker':
      return (await import('./commands/serve.js')).runRole(config, command);
    case 'models':
      return (await import('./commands/models.js')).runModelsCommand(config, rest);
    case 'process':
      return (await import('./commands/process.js')).runProcessCommand(config, rest);
    case 'dlq':
      return (await import('./commands/dlq.js')).runDeadLetterCommand(config, rest);
    default:
      throw new ConfigError(`Unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err) => {
  const known = err instanceof ConfigError || err instanceof ModelPullError;
  console.error(`pixveil: ${known ? err.message : (err as Error).stack ?? String(err)}`);
  process.exit(known ? 2 : 1);
});
