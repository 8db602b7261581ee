// The video section of `npm run eval`: each clip of clips.ts goes through the image pipeline frame
// by frame (the per-frame baseline), then its detections through the tracker at each detect_every
// (frames without a pass get no detections, as in the service). Scored per frame by score.ts.
// Flags: --video-lookahead=8 --video-max-misses=8 --video-iou=0.3 --video-detect-every=1,3
//   --video-clips=pan:uf_17,... (names from clips.ts) --video-codec=none|h264 (h264: each clip is
//   encoded by ffmpeg's libx264 and decoded back first, so the detectors see codec artefacts).
import { performance } from 'node:perf_hooks';
import { defaults } from '../../src/config/defaults.js';
import type { Detection } from '../../src/job.js';
import { processImage } from '../../src/pipeline/process-image.js';
import { enlarge, shouldBlur } from '../../src/pipeline/regions.js';
import { DEFAULT_TRACKER_OPTIONS, LookaheadTracker, type FrameBox } from '../../src/video/tracking/index.js';
import type { EvalArgs, EvalConfig } from '../config.js';
import type { GtClass } from '../ground-truth.js';
import { videoClips, type Clip, type FrameLabel } from './clips.js';
import { h264RoundTrip } from './codec.js';
import { newVideoTally, scoreFrame, type ScoredBox, type VideoTally } from './score.js';

const VEHICLE_LABELS = new Set(['car', 'truck', 'bus', 'motorcycle']);
const classOf = (kind: string, label?: string): GtClass | null =>
  kind === 'face' ? 'face' : kind === 'plate' ? 'plate' : label === 'person' ? 'person' : label && VEHICLE_LABELS.has(label) ? 'vehicle' : null;

interface FrameResult {
  labels: FrameLabel[];
  detections: Detection[];
}

const median = (v: number[]) => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] : 0);

export async function runVideoEval(config: EvalConfig, args: EvalArgs): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const num = (key: string, fallback: number) => (args[key] !== undefined ? Number(args[key]) : fallback);
  const tracking = {
    lookahead: num('video-lookahead', DEFAULT_TRACKER_OPTIONS.lookahead),
    maxMisses: num('video-max-misses', DEFAULT_TRACKER_OPTIONS.maxMisses),
    iouThreshold: num('video-iou', DEFAULT_TRACKER_OPTIONS.iouThreshold),
  };
  const detectEvery = (args['video-detect-every'] ?? '1,3').split(',').map(Number);
  const codec = args['video-codec'] ?? 'none';
  if (codec !== 'none' && codec !== 'h264') throw new Error('--video-codec must be none or h264');
  const wanted = args['video-clips']?.split(',');
  const clips = videoClips().filter((c) => !wanted || wanted.includes(c.name));
  const { detectors, settings } = config;
  // JPEG out: the output image is not looked at, only the detections and blur boxes, so the cheapest encode.
  const options = { ...config.options, format: 'same' as const };

  const tallies = new Map<string, VideoTally>();
  const tally = (key: string) => tallies.get(key) ?? (tallies.set(key, newVideoTally()), tallies.get(key)!);
  const pipelineMs: number[] = [];
  const trackerMs: number[] = [];
  const placed: Record<string, { boxes: number; placed: number }> = {};
  const clipInfo: unknown[] = [];

  for (const clip of clips) {
    const frames = await detectClip(clip, codec, async (data) => {
      const start = performance.now();
      const r = await processImage(data, options, detectors, { maxPixels: defaults.maxPixels }, settings);
      pipelineMs.push(performance.now() - start);
      return r.detections;
    });
    clipInfo.push({ name: clip.name, width: clip.width, height: clip.height, frames: clip.frames, objects: new Set(frames.flatMap((f) => f.labels.map((l) => l.object))).size, labelFrames: frames.reduce((n, f) => n + f.labels.length, 0) });

    // The image pipeline alone: each frame's own detections and blur boxes.
    for (const f of frames) {
      const boxes: ScoredBox[] = f.detections.map((d) => ({ class: classOf(d.kind, d.label), box: d.box }));
      const regions = f.detections.filter((d) => d.blurBox).map((d) => d.blurBox!);
      scoreInto('image', clip.name, f.labels, boxes, regions, tally);
    }

    for (const every of detectEvery) {
      const mode = `tracked:detect_every=${every}`;
      const tracker = new LookaheadTracker({ ...tracking, detectEvery: every, frameWidth: clip.width, frameHeight: clip.height });
      const released: Array<{ frame: number; boxes: FrameBox[] }> = [];
      frames.forEach((f, i) => {
        const dets = i % every === 0 ? f.detections.map((d): FrameBox => ({ kind: d.kind, label: d.label, score: d.score, ...d.box })) : null;
        const start = performance.now();
        released.push(...tracker.push(i, dets));
        trackerMs.push(performance.now() - start);
      });
      released.push(...tracker.flush());
      const count = (placed[mode] ??= { boxes: 0, placed: 0 });
      for (const r of released) {
        const f = frames[r.frame];
        const boxes: ScoredBox[] = r.boxes.map((b) => ({ class: classOf(b.kind, b.label), box: b }));
        const regions = r.boxes
          .filter((b) => shouldBlur({ kind: b.kind as Detection['kind'], label: b.label ?? b.kind }, options))
          .map((b) => enlarge(b, b.kind === 'face' ? settings.blurMargin.face : b.kind === 'plate' ? settings.blurMargin.plate : 0, clip.width, clip.height));
        count.boxes += r.boxes.length;
        count.placed += r.boxes.filter((b) => b.source !== 'detected').length;
        scoreInto(mode, clip.name, f.labels, boxes, regions, tally);
      }
    }
  }

  const modes = ['image', ...detectEvery.map((e) => `tracked:detect_every=${e}`)];
  const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(2)}%` : '-');
  const ratio = (a: number, b: number) => (b ? (a / b).toFixed(3) : '-');
  const lines: string[] = [];
  lines.push(`video: ${clips.length} clips of ${clips.map((c) => `${c.frames}`).join('/')} frames at ${clips[0]?.width}x${clips[0]?.height} (${clips.map((c) => c.name).join(', ')}), codec ${codec}; tracker lookahead=${tracking.lookahead} maxMisses=${tracking.maxMisses} iou=${tracking.iouThreshold}`);
  lines.push('video mode                         scope          label-frames  recall  unblurred(label-frames)  frames-with-unblurred  uncovered-px');
  const report: Record<string, unknown> = {};
  const scopes = ['all', 'all|face', 'all|plate', ...clips.map((c) => c.name)];
  for (const mode of modes) {
    for (const scope of scopes) {
      const t = tallies.get(`${mode}|${scope}`);
      if (!t) continue;
      lines.push(`${mode.padEnd(34)} ${scope.padEnd(14)} ${String(t.labelFrames).padStart(12)}  ${ratio(t.found, t.labelFrames).padStart(6)}  ${pct(t.unblurred, t.labelFrames).padStart(23)}  ${pct(t.framesWithUnblurred, t.frames).padStart(21)}  ${ratio(t.uncoveredPixels, t.pixels).padStart(12)}`);
      report[`${mode}|${scope}`] = { ...t, recall: t.labelFrames ? t.found / t.labelFrames : null, unblurredShare: t.labelFrames ? t.unblurred / t.labelFrames : null, framesWithUnblurredShare: t.frames ? t.framesWithUnblurred / t.frames : null, uncoveredPixelShare: t.pixels ? t.uncoveredPixels / t.pixels : null };
    }
  }
  for (const [mode, c] of Object.entries(placed)) lines.push(`${mode}: ${c.boxes} boxes released, ${c.placed} of them placed by the tracker (not detected in their frame)`);
  lines.push(`video cost (single thread, medians): image pipeline ${median(pipelineMs).toFixed(1)} ms/frame, tracker ${median(trackerMs).toFixed(3)} ms/frame (max ${Math.max(...trackerMs).toFixed(2)})`);
  const targets = detectEvery.map((e) => {
    const t = tallies.get(`tracked:detect_every=${e}|all`)!;
    const img = tallies.get('image|all')!;
    const limit = e === 1 ? 0.005 : 0.01;
    // The issue's "frames in which a labelled face or plate is left unblurred", read both ways: per labelled object and frame, and per frame.
    return `detect_every=${e}: recall ${ratio(t.found, t.labelFrames)} vs image ${ratio(img.found, img.labelFrames)} (${t.found / t.labelFrames >= img.found / img.labelFrames ? 'met' : 'NOT met'}), unblurred in ${pct(t.unblurred, t.labelFrames)} of label-frames (${t.unblurred / t.labelFrames < limit ? 'met' : 'NOT met'}) and ${pct(t.framesWithUnblurred, t.frames)} of frames (${t.framesWithUnblurred / t.frames < limit ? 'met' : 'NOT met'}) vs < ${limit * 100}%`;
  });
  lines.push(`video targets (issue 24): ${targets.join('; ')}`);
  const json = { clips: clipInfo, codec, tracking, detectEvery, tallies: report, placedBoxes: placed, medianMs: { pipelinePerFrame: median(pipelineMs), trackerPerFrame: median(trackerMs) } };
  return { lines, json };
}

/** Scores one frame into the mode's tallies: the clip's, all clips', and per labelled class. */
function scoreInto(mode: string, clip: string, labels: FrameLabel[], boxes: ScoredBox[], regions: ScoredBox['box'][], tally: (k: string) => VideoTally): void {
  scoreFrame(labels, boxes, regions, [tally(`${mode}|${clip}`), tally(`${mode}|all`)]);
  for (const cls of new Set(labels.map((l) => l.class))) scoreFrame(labels.filter((l) => l.class === cls), boxes, regions, [tally(`${mode}|all|${cls}`)]);
}

/** Every frame of the clip with its labels and the image pipeline's detections. */
async function detectClip(clip: Clip, codec: string, detect: (data: Buffer) => Promise<Detection[]>): Promise<FrameResult[]> {
  const out: FrameResult[] = [];
  if (codec === 'h264') {
    const made = [];
    for (let i = 0; i < clip.frames; i++) made.push(await clip.frame(i));
    const decoded = await h264RoundTrip(made.map((m) => m.data), clip.width, clip.height);
    for (const [i, data] of decoded.entries()) out.push({ labels: made[i].labels, detections: await detect(data) });
    return out;
  }
  for (let i = 0; i < clip.frames; i++) {
    const { data, labels } = await clip.frame(i);
    out.push({ labels, detections: await detect(data) });
  }
  return out;
}
