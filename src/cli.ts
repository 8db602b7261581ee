#!/usr/bin/env node
// Reads the command line (commander) and hands it to src/commands/; every command's work lives there.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig } from './config/config.js';
import { detectionKinds, kindSlots, thresholdFlag } from './kinds.js';
import { ManifestError } from './models/manifest.js';
import { ModelPullError } from './models/pull.js';
import { packageRoot } from './paths.js';
import type { ProcessFlags } from './commands/process.js';
import type { QuantizeFlags } from './commands/quantize.js';

const version = (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** Exit status of a command line that could not be understood (and of bad configuration). */
const USAGE_EXIT = 2;

// Commands are imported when run, so `pixveil keys` or `process` loads no HTTP server or Redis client.
function buildProgram(): Command {
  const program = new Command('pixveil')
    .description('Blur faces and licence plates, detect objects: an HTTP service, its workers, and a folder tool.\nConfiguration comes from environment variables; see the README.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for pixveil or a command')
    .showHelpAfterError("(run 'pixveil --help' or 'pixveil <command> --help' for usage)")
    .configureOutput({ outputError: (message, write) => write(`pixveil: ${message.replace(/^error: /, '')}`) })
    .exitOverride();

  const role = (name: 'serve' | 'api' | 'worker', summary: string) =>
    program
      .command(name)
      .description(summary)
      .action(async () => (await import('./commands/serve.js')).runRole(loadConfig(), name));
  role('serve', 'API and workers in one process (the default; what npm start runs)');
  role('api', 'API only (needs REDIS_URL)');
  role('worker', 'workers only (needs REDIS_URL); listens on PORT for probes and /metrics');

  const processCommand = program
    .command('process')
    .description('anonymize every image (JPEG, PNG, WebP) and video (MP4/MOV, Matroska/WebM, MPEG-TS) in <in> into [out]')
    .argument('<in>', 'folder of images and videos')
    .argument('[out]', 'output folder', undefined)
    .option('--blur <style>', 'gaussian, pixelate or solid')
    .option('--shape <shape>', 'box or ellipse')
    .option('--detect <list>', `comma list of ${kindSlots().join(', ')} (default: every configured detector)`);
  // --face-threshold, --plate-threshold, …: one per detection kind (src/kinds.ts).
  for (const kind of detectionKinds()) processCommand.option(`${thresholdFlag(kind)} <0..1>`, `${kind.name} score threshold`);
  processCommand
    .option('--blur-classes <list>', 'object classes to blur too, e.g. person,car')
    .option('--format <format>', 'same, jpeg, png or webp')
    .option('--quality <1..100>', 'JPEG/WebP quality')
    .option('--metadata <policy>', 'strip or safe (default: KEEP_METADATA)')
    .option('--detect-every <n>', 'videos: detection on every n-th frame, the tracker in between (default 1)')
    .option('--audio <policy>', 'videos: keep or drop the audio (default keep)')
    .option('--video-format <container>', 'videos: mp4 or mkv (default mp4)')
    .option('-r, --recursive', 'walk subfolders, keeping their structure under [out]', false)
    .option('-f, --force', 'redo images whose output is already there and newer than the input', false)
    .option('--report <file>', 'JSONL report of failures (default: [out]/failures.jsonl)')
    .addOption(new Option('--in-flight <n>', 'images read and queued at once (default: 2 per pool slot)').argParser(positiveInt))
    .addOption(new Option('--progress-every <n>', 'without a terminal, a progress line every n images').default(100).argParser(positiveInt))
    .addHelpText('after', '\nOutput: [out] defaults to <in>/anonymized. Exit status: 0 all done, 1 some images failed, 2 usage or setup error.')
    .action(async (input: string, out: string | undefined, flags: ProcessFlags) =>
      (await import('./commands/process.js')).runProcessCommand(loadConfig(), input, out, flags),
    );

  const models = program.command('models').description('model files: list, pull or quantize');
  models
    .command('list')
    .description('known models and whether their files are present and intact')
    .action(async () => (await import('./commands/models.js')).runModelsCommand(loadConfig(), ['list']));
  models
    .command('pull')
    .description('download the configured (or named) models into MODEL_DIR')
    .argument('[name...]', 'model names (default: the configured ones)')
    .action(async (names: string[]) => (await import('./commands/models.js')).runModelsCommand(loadConfig(), ['pull', ...names]));
  models
    .command('quantize')
    .description("make the plate model's float and int8 files (scripts/quantize/, needs Python) into MODEL_DIR")
    .option('--out <dir>', 'where to write them (default: MODEL_DIR)')
    .option('--photos <dir>', 'folder the calibration list is relative to (default: ../shared/fixtures beside the package)')
    .option('--calibration <file>', 'calibration photos, one path a line (default: scripts/quantize/calibration.txt)')
    .option('--python <path>', 'Python with scripts/quantize/requirements.txt installed', 'python3')
    .action(async (flags: QuantizeFlags) => (await import('./commands/quantize.js')).runQuantizeCommand(loadConfig(), flags));

  const dlq = program.command('dlq').description('dead-lettered jobs (Redis mode)');
  dlq
    .command('list')
    .description('one JSON line per dead letter')
    .action(async () => (await import('./commands/dlq.js')).runDeadLetterCommand(loadConfig(), ['list']));
  dlq
    .command('retry')
    .description('requeue the named dead letters (all when none is named)')
    .argument('[id...]', 'entry or job ids')
    .action(async (ids: string[]) => (await import('./commands/dlq.js')).runDeadLetterCommand(loadConfig(), ['retry', ...ids]));

  program
    .command('keys')
    .description('API keys')
    .command('hash')
    .description('print an API_KEYS_FILE line (makes a key when none is given; the key goes to stderr)')
    .argument('<tenant>')
    .argument('[key]')
    .action(async (tenant: string, key: string | undefined) =>
      (await import('./commands/keys.js')).runKeysCommand(key === undefined ? ['hash', tenant] : ['hash', tenant, key]),
    );

  for (const command of [program, ...allCommands(program)]) {
    command.exitOverride().showHelpAfterError(`(run '${commandPath(command)} --help' for usage)`).configureOutput({
      outputError: (message, write) => write(`pixveil: ${message.replace(/^error: /, '')}`),
    });
  }
  return program;
}

function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('Expected a positive integer.');
  return n;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

// No command at all is `serve` (what npm start and the container run); commander's own default
// command would take `pixveil typo` for serve's argument instead of an unknown command.
const argv = process.argv.length > 2 ? process.argv : [...process.argv, 'serve'];
buildProgram()
  .parseAsync(argv)
  .catch((err) => {
    if (err instanceof CommanderError) {
      // Help and --version end here with code 0; anything else commander refused is a usage error.
      process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT);
    }
    // A user's settings, manifests or model files: their message says what to fix; a stack would only hide it.
    const known = err instanceof ConfigError || err instanceof ModelPullError || err instanceof ManifestError;
    console.error(`pixveil: ${known ? err.message : (err as Error).stack ?? String(err)}`);
    process.exit(known ? USAGE_EXIT : 1);
  });
