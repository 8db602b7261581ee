// Which onnxruntime execution providers the installed onnxruntime-node can really run, checked
// before any session is made: a provider asked for and missing must stop start-up, never become a
// silent CPU run (onnxruntime fails session creation with a multi-line loader error instead).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { ConfigError } from '../config/config.js';
import { kindSlots } from '../kinds.js';

/** What onnxruntime-node's binding says about one provider (listSupportedBackends). */
export interface BackendInfo {
  name: string;
  /** Shipped inside the npm package; the others need their libraries installed beside the binding. */
  bundled: boolean;
}

/** The libraries onnxruntime loads for a provider that is not bundled (its install script fetches them). */
const PROVIDER_LIBRARIES: Record<string, string[]> = {
  cuda: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  tensorrt: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_tensorrt.so'],
};

const HOW_TO_GET = 'get them with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci where the internet is reachable (its install script downloads the CUDA 12 providers), or use the CUDA image (docker/Dockerfile.cuda)';

/** The folder of the loaded onnxruntime binding (bin/napi-v*\/<platform>/<arch>), where provider libraries must sit. */
export function ortBindingDir(): string | undefined {
  const root = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = path.join(root, 'bin');
  if (!fs.existsSync(bin)) return undefined;
  for (const napi of fs.readdirSync(bin).sort().reverse()) {
    const dir = path.join(bin, napi, process.platform, process.arch);
    if (fs.existsSync(path.join(dir, 'onnxruntime_binding.node'))) return dir;
  }
  return undefined;
}

export interface ProviderProbe {
  backends: BackendInfo[];
  /** Whether a provider's library file is present (defaults to a look in the binding's folder). */
  hasLibrary: (file: string) => boolean;
}

export function probeInstalledProviders(): ProviderProbe {
  const dir = ortBindingDir();
  return {
    backends: ort.listSupportedBackends() as BackendInfo[],
    hasLibrary: (file) => dir !== undefined && fs.existsSync(path.join(dir, file)),
  };
}

/** The providers of `wanted` this onnxruntime-node cannot run, each with why. */
export function missingProviders(wanted: readonly string[], probe: ProviderProbe): Array<{ name: string; why: string }> {
  const missing: Array<{ name: string; why: string }> = [];
  for (const name of wanted) {
    const backend = probe.backends.find((b) => b.name === name);
    if (!backend) {
      missing.push({ name, why: `not built into this onnxruntime-node (it knows ${probe.backends.map((b) => b.name).join(', ')})` });
      continue;
    }
    if (backend.bundled) continue;
    const absent = (PROVIDER_LIBRARIES[name] ?? [`libonnxruntime_providers_${name}.so`]).filter((file) => !probe.hasLibrary(file));
    if (absent.length > 0) missing.push({ name, why: `its libraries are not installed (${absent.join(', ')})` });
  }
  return missing;
}

/** Throws a one-line ConfigError (exit 2 from the CLI) when EXECUTION_PROVIDERS names a provider that cannot run here. */
export function checkExecutionProviders(wanted: readonly string[], probe: ProviderProbe = probeInstalledProviders()): void {
  const missing = missingProviders(wanted, probe);
  if (missing.length === 0) return;
  const version = (ort.env.versions as { node?: string }).node ?? '?';
  const list = missing.map((m) => `${m.name} (${m.why})`).join(', ');
  throw new ConfigError(`EXECUTION_PROVIDERS=${wanted.join(',')}: the installed onnxruntime-node ${version} cannot run ${list}; ${HOW_TO_GET}`);
}

/** Per model, the providers its session was given and the one it runs on (onnxruntime puts each operator on the first provider of the list that has it). */
export interface ModelProvider {
  /** The detection kind's slot (src/kinds.ts). */
  kind: string;
  model: string;
  provider: string;
  providers: string[];
}

export function modelProviders(models: Partial<Record<ModelProvider['kind'], { name: string } | undefined>>, providers: readonly string[]): ModelProvider[] {
  return kindSlots().flatMap((kind) => {
    const manifest = models[kind];
    return manifest ? [{ kind, model: manifest.name, provider: providers[0], providers: [...providers] }] : [];
  });
}

/** onnxruntime's message without its source path prefix, first line only. */
function ortReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n').map((l) => l.trim()).find(Boolean) ?? text;
  return line.replace(/^\S*onnxruntime_src\S*\s+/, '').replace(/^.*? was false\.\s*/, '').slice(0, 300);
}

/**
 * Installed is not the same as usable: a provider whose libraries are there can still fail to start
 * (no GPU, no driver, a missing cuDNN). With anything but `cpu` asked for, one session is made on
 * `file` in this thread before the pool starts, so that failure is one line too, not a stack per thread.
 */
export async function checkProvidersStart(wanted: readonly string[], file: string | undefined): Promise<void> {
  if (!file || wanted.every((name) => name === 'cpu')) return;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, { executionProviders: [...wanted], logSeverityLevel: 3 });
  } catch (err) {
    throw new ConfigError(`EXECUTION_PROVIDERS=${wanted.join(',')}: onnxruntime could not start a session on them (${ortReason(err)}); check the GPU, its driver and the CUDA/cuDNN libraries, or set EXECUTION_PROVIDERS=cpu`);
  }
  await session.release();
}
