// Links detections across video frames so a face or plate stays blurred in every frame it is in:
// through short misses (boxes predicted), between detection passes (boxes interpolated), and
// before its first detection (the frames are held back `lookahead` frames, so a track found late
// is carried back over them). Frames come out in order, each with its final boxes.
import { associate } from './associate.js';
import { sceneVelocity } from './motion.js';
import { estimateSceneVelocity } from './scene-motion.js';
import { clip, grow, type Rect } from './rect.js';
import { Track, type BoxSource, type PlacedBox } from './track.js';

export type { BoxSource } from './track.js';

/** Pixel box of one detection in one frame (kind: 'face' | 'plate' | 'object' ...). */
export interface FrameBox {
  kind: string;
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
  label?: string;
  /** Set on released boxes: the track's id (as in tracks()). */
  track?: number;
  /** Set on released boxes: detected in this frame, or placed by the tracker (grown by its uncertainty). */
  source?: BoxSource;
}

export interface TrackerOptions {
  /** Frames held back before release; a track is carried back this far before its first detection. */
  lookahead: number;
  /** Frames a track is carried past its last detection before it ends. */
  maxMisses: number;
  /** Overlap of a detection with a track's predicted box that links them. */
  iouThreshold: number;
  /** A detection pass runs every this many frames; push() gets null in between. */
  detectEvery: number;
  /** Frame size in pixels: boxes are clipped to it, and a box carried out of it is dropped. */
  frameWidth?: number;
  frameHeight?: number;
  /** Detections a track needs before it is carried through misses and backwards (default 2). */
  confirmHits?: number;
  /** A single detection at least this sure is carried at once (default 0.9). */
  confirmScore?: number;
  /** Growth of a placed box per frame away from its nearest detection, as a share of its size (default 0.05). */
  growthPerFrame?: number;
  /** The most a placed box is grown (default 0.3). */
  maxGrowth?: number;
}

export interface TrackRecord {
  id: number;
  kind: string;
  label?: string;
  first_frame: number;
  last_frame: number;
  boxes: Array<{ frame: number; x: number; y: number; width: number; height: number }>;
}

export interface ReleasedFrame {
  frame: number;
  boxes: FrameBox[];
}

/** Values the service starts from (the video settings may override them). */
export const DEFAULT_TRACKER_OPTIONS: Readonly<TrackerOptions> = Object.freeze({ lookahead: 8, maxMisses: 8, iouThreshold: 0.3, detectEvery: 1 });

const OPTIONAL_DEFAULTS = { confirmHits: 2, confirmScore: 0.9, growthPerFrame: 0.05, maxGrowth: 0.3 };

type FilledOptions = Required<Omit<TrackerOptions, 'frameWidth' | 'frameHeight'>> & Pick<TrackerOptions, 'frameWidth' | 'frameHeight'>;

function expected(what: string, name: string, value: unknown): Error {
  return new TypeError(`Expected ${what} for ${name} but received ${String(value)} of type ${typeof value}`);
}

function checkOptions(options: TrackerOptions): FilledOptions {
  const filled = { ...OPTIONAL_DEFAULTS, ...options };
  const integer = (name: keyof TrackerOptions, min: number) => {
    const v = filled[name];
    if (!Number.isInteger(v) || (v as number) < min) throw expected(`an integer >= ${min}`, name, v);
  };
  const share = (name: keyof TrackerOptions, min: number, max: number) => {
    const v = filled[name];
    if (typeof v !== 'number' || !(v >= min && v <= max)) throw expected(`a number between ${min} and ${max}`, name, v);
  };
  integer('lookahead', 0);
  integer('maxMisses', 0);
  integer('detectEvery', 1);
  integer('confirmHits', 1);
  share('iouThreshold', 0, 1);
  share('confirmScore', 0, Infinity);
  share('growthPerFrame', 0, 1);
  share('maxGrowth', 0, 10);
  if ((filled.frameWidth === undefined) !== (filled.frameHeight === undefined)) throw expected('frameWidth and frameHeight together', 'frameWidth', filled.frameWidth);
  if (filled.frameWidth !== undefined) {
    integer('frameWidth', 1);
    integer('frameHeight', 1);
  }
  return filled;
}

/** Detections of different kinds (or object classes) never link. */
const keyOf = (b: Pick<FrameBox, 'kind' | 'label'>) => (b.kind === 'object' ? `object:${b.label ?? ''}` : b.kind);

const round1 = (v: number) => Math.round(v * 10) / 10;

export class LookaheadTracker {
  private readonly options: FilledOptions;
  /** Frames a track is carried past its last detection: never less than the gap between two passes. */
  private readonly coast: number;
  /** Frames pushed and not yet released, oldest first. */
  private held: number[] = [];
  /** Tracks that may still place a box in a held or future frame. */
  private active: Track[] = [];
  private readonly records = new Map<number, TrackRecord>();
  private nextId = 1;
  private nextFrame: number | null = null;
  private flushed = false;

  constructor(options: TrackerOptions) {
    this.options = checkOptions(options);
    this.coast = Math.max(this.options.maxMisses, this.options.detectEvery - 1);
  }

  /** Frames in index order. detections null = no detection pass ran on this frame (detect_every). Returns frames whose boxes are final (held back `lookahead` frames). */
  push(frame: number, detections: FrameBox[] | null): ReleasedFrame[] {
    if (this.flushed) throw new Error('LookaheadTracker: push() after flush()');
    if (!Number.isInteger(frame) || (this.nextFrame !== null && frame !== this.nextFrame)) throw expected(`frame ${this.nextFrame ?? 'index (an integer)'}`, 'frame', frame);
    if (detections !== null && !Array.isArray(detections)) throw expected('an array or null', 'detections', detections);
    for (const d of detections ?? []) {
      if (typeof d?.kind !== 'string') throw expected('a string', 'detection kind', d?.kind);
      if (![d.x, d.y, d.score].every(Number.isFinite) || !(d.width > 0 && d.height > 0)) throw expected('finite x, y, score and a positive width and height', 'detection box', JSON.stringify(d));
    }
    this.nextFrame = frame + 1;
    this.held.push(frame);
    if (detections) this.link(frame, detections);
    const out: ReleasedFrame[] = [];
    while (this.held.length > this.options.lookahead) out.push(this.release(this.held.shift()!));
    return out;
  }

  /** Releases every held frame (end of the video). */
  flush(): ReleasedFrame[] {
    this.flushed = true;
    const out = this.held.map((f) => this.release(f));
    this.held = [];
    this.active = [];
    return out;
  }

  /** Every track with the boxes released so far, by id. */
  tracks(): TrackRecord[] {
    return [...this.records.values()].sort((a, b) => a.id - b.id);
  }

  /** Frames held right now (at most lookahead between calls; lookahead + 1 inside push). */
  get heldFrames(): number {
    return this.held.length;
  }

  /** Tracks still kept in memory (live, or ended but placing boxes in held frames). */
  get activeTracks(): number {
    return this.active.length;
  }

  private link(frame: number, detections: FrameBox[]): void {
    const { iouThreshold, confirmHits, confirmScore } = this.options;
    const live = this.active.filter((t) => !t.ended);
    // How most tracks move (a panning or zooming camera moves them all): the first guess for a track seen once.
    const measured = sceneVelocity(live.map((t) => t.measuredVelocity).filter((v) => v !== null));
    const kinds = new Set(detections.map(keyOf));
    const matched = new Set<Track>();
    for (const key of kinds) {
      const dets = detections.filter((d) => keyOf(d) === key);
      const tracks = live.filter((t) => keyOf(t) === key);
      const scene = measured ?? estimateSceneVelocity(tracks.map((t) => ({ box: t.last.box, gap: frame - t.last.frame })), dets);
      const pairs = associate(
        tracks.map((t) => t.predict(frame, scene)),
        tracks.map((t) => frame - t.last.frame),
        dets,
        iouThreshold,
      );
      const linked = new Set<number>();
      for (const p of pairs) {
        const track = tracks[p.track];
        const d = dets[p.detection];
        track.add({ frame, box: { x: d.x, y: d.y, width: d.width, height: d.height }, score: d.score });
        matched.add(track);
        linked.add(p.detection);
      }
      dets.forEach((d, i) => {
        if (linked.has(i)) return;
        const track = new Track(this.nextId++, d.kind, d.label, { frame, box: { x: d.x, y: d.y, width: d.width, height: d.height }, score: d.score });
        this.active.push(track);
        matched.add(track);
      });
    }
    for (const t of this.active) {
      if (!matched.has(t) && !t.ended && frame - t.last.frame > this.coast) t.ended = true;
      if (!t.confirmed && (t.hits >= confirmHits || t.last.score >= confirmScore)) t.confirmed = true;
    }
  }

  private release(frame: number): ReleasedFrame {
    const boxes: FrameBox[] = [];
    for (const t of this.active) {
      const placed = t.boxAt(frame, this.coast, this.options.lookahead);
      if (!placed) continue;
      const box = this.finalBox(placed);
      if (!box) continue;
      const out: FrameBox = { kind: t.kind, x: round1(box.x), y: round1(box.y), width: round1(box.width), height: round1(box.height), score: placed.score, track: t.id, source: placed.source };
      if (t.label !== undefined) out.label = t.label;
      boxes.push(out);
      this.record(t, frame, out);
    }
    // Tracks that can place nothing from the next frame on are let go; the rest forget what they no longer need.
    this.active = this.active.filter((t) => !(t.ended && t.last.frame + this.coast <= frame));
    for (const t of this.active) t.forgetBefore(frame + 1);
    return { frame, boxes };
  }

  private finalBox(placed: PlacedBox): Rect | null {
    const { growthPerFrame, maxGrowth, frameWidth, frameHeight } = this.options;
    const box = placed.distance > 0 ? grow(placed.box, Math.min(maxGrowth, growthPerFrame * placed.distance)) : placed.box;
    return frameWidth !== undefined && frameHeight !== undefined ? clip(box, frameWidth, frameHeight) : box;
  }

  private record(t: Track, frame: number, b: FrameBox): void {
    let r = this.records.get(t.id);
    if (!r) {
      r = { id: t.id, kind: t.kind, first_frame: frame, last_frame: frame, boxes: [] };
      if (t.label !== undefined) r.label = t.label;
      this.records.set(t.id, r);
    }
    r.last_frame = frame;
    r.boxes.push({ frame, x: b.x, y: b.y, width: b.width, height: b.height });
  }
}
