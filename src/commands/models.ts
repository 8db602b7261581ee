import { ConfigError, type Config } from '../config/config.js';
import { configuredModels, knownManifests, presentModels } from '../models/configured.js';
import { modelFileState } from '../models/files.js';
import { ensureModels } from '../models/pull.js';

/** `pixveil models list` (known models and their files' state) and `pixveil models pull [name…]`. */
export async function runModelsCommand(config: Config, args: string[]): Promise<void> {
  const manifests = knownManifests(config);
  const [sub, ...names] = args;
  if (sub === 'list') {
    for (const m of manifests.values()) {
      const state = await modelFileState(config.modelDir, m);
      const from = m.derived ? `made from ${m.derived.from} by "pixveil models quantize"` : m.source.url;
      console.log(`${m.name.padEnd(22)} ${m.task.padEnd(8)} ${state.padEnd(18)} ${m.license.padEnd(11)} ${from}`);
    }
    console.log(`MODEL_DIR=${config.modelDir}`);
    return;
  }
  if (sub !== 'pull') throw new ConfigError(`Unknown models command ${JSON.stringify(sub)}: use "models list" or "models pull"`);
  const selected =
    names.length > 0
      ? names.map((name) => manifests.get(name) ?? (() => { throw new ConfigError(`Unknown model ${name}: known are ${[...manifests.keys()].join(', ')}`); })())
      : presentModels(configuredModels(config, manifests));
  await ensureModels(config.modelDir, selected, { pull: true, progress: process.stderr, mirror: config.modelMirror || undefined });
  console.log(`models ready in ${config.modelDir}: ${selected.map((m) => m.name).join(', ')}`);
}
