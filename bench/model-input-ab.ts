// Model inputs with two builds of the addon alternated in one process, from a real 1080p photo:
// the pyramid's levels 1-2 (what the 416×416 plate and object inputs read), and YuNet's 1600×928
// input written by each build's regionToTensor, then YuNet run on it in one session. The input
// pass is timed apart and together with the model run that reads it, because how a tensor is
// written (streaming stores or not) moves where its bytes are when the model reads them. CPU ms of
// this thread (onnxruntime with one intra-op thread), medians over alternated blocks.
//   node -r ./bin/preload-threadpool.cjs dist/bench/model-input-ab.js --old=<addon .node> [--new=build/Release/pixveil_native.node] [--rounds=8]
import path from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { createNativeOps, loadNativeAddon, nativeAddonPath } from '../src/addon/native.js';
import { deepestLevel, ImagePyramid } from '../src/addon/pyramid.js';
import { planRegionTensor } from '../src/addon/region-plan.js';
import type { RawImage, TensorSpec } from '../src/addon/types.js';
import { loadManifests } from '../src/models/manifest.js';
import { modelPath } from '../src/models/files.js';
import { facesDir, modelDir } from '../harness/photos.js';
import { cpuMs, median } from './model-only.js';
import { round } from './stages.js';

const arg = (name: string, fallback?: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const oldFile = arg('old');
if (!oldFile) {
  console.error('bench/model-input-ab: --old=<path to the other build\'s pixveil_native.node> is required');
  process.exit(2);
}
const builds = [
  { name: 'old', file: path.resolve(oldFile) },
  { name: 'new', file: path.resolve(arg('new', nativeAddonPath)!) },
].map(({ name, file }) => {
  const loaded = loadNativeAddon(file);
  if (!loaded.ok) {
    console.error(`bench/model-input-ab: ${name}: ${loaded.reason}`);
    process.exit(2);
  }
  return { name, file, ops: createNativeOps(loaded.addon) };
});
const rounds = Number(arg('rounds', '8'));

sharp.concurrency(1);
// A real photo at 1920×1080, decoded as the pipeline does.
const { data, info } = await sharp(path.join(facesDir, 'uf_17.jpg')).rotate().resize(1920, 1080, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const image: RawImage = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };

const manifest = loadManifests().get('yunet-n');
if (!manifest) throw new Error('the yunet-n manifest is missing');
const spec: TensorSpec = { ...manifest.input, width: 1600, height: 928 };
const maxLevel = deepestLevel(image.width, image.height);
const plan = planRegionTensor({ x: 0, y: 0, width: image.width, height: image.height }, spec, maxLevel);
const session = await ort.InferenceSession.create(modelPath(modelDir, manifest), { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
// One tensor, reused as the detectors reuse theirs (TensorStash).
const tensor = new Float32Array(3 * spec.width * spec.height);
const feeds = { [manifest.input.name]: new ort.Tensor('float32', tensor, [1, 3, spec.height, spec.width]) };

const times = new Map(builds.map((b) => [b.name, { pyramid: [] as number[], input: [] as number[], model: [] as number[], stage: [] as number[] }]));
for (let r = 0; r < rounds + 1; r++) {
  for (const build of builds) {
    const t = times.get(build.name)!;
    for (let k = 0; k < 4; k++) {
      const levelsStart = cpuMs();
      new ImagePyramid(image, maxLevel, build.ops.halveImage).level(2);
      const levelsMs = cpuMs() - levelsStart;
      const pyramid = new ImagePyramid(image, maxLevel, build.ops.halveImage);
      const start = cpuMs();
      build.ops.regionToTensor(pyramid.level(plan.level), plan, tensor, 0);
      const written = cpuMs();
      await session.run(feeds);
      const end = cpuMs();
      // The first round and the first run of each block warm up (the other build's run just before).
      if (r === 0 || k === 0) continue;
      t.pyramid.push(levelsMs);
      t.input.push(written - start);
      t.model.push(end - written);
      t.stage.push(end - start);
    }
  }
}
await session.release();
console.log(`Pyramid levels 1-2 and YuNet 1600×928 from a 1080p photo, ${rounds} alternated rounds (CPU ms, medians):`);
console.table(builds.map((b) => {
  const t = times.get(b.name)!;
  return { build: b.name, addon: path.relative(process.cwd(), b.file), pyramid_levels_1_2_ms: round(median(t.pyramid)), input_ms: round(median(t.input)), model_after_input_ms: round(median(t.model)), input_and_model_ms: round(median(t.stage)) };
}));
