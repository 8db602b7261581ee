// A constant-velocity model of one box: centre and size change by a fixed amount per frame. Enough
// for the few frames a track is carried without a detection; a Kalman filter would add smoothing
// the look-ahead already gives (gaps are interpolated between real detections, not predicted).
import type { Rect } from './rect.js';

export interface Velocity {
  cx: number;
  cy: number;
  width: number;
  height: number;
}

export const STILL: Velocity = Object.freeze({ cx: 0, cy: 0, width: 0, height: 0 });

/** Per-frame change from box a (frame fa) to box b (frame fb). */
export function velocityBetween(a: Rect, fa: number, b: Rect, fb: number): Velocity {
  const dt = fb - fa;
  return {
    cx: (b.x + b.width / 2 - (a.x + a.width / 2)) / dt,
    cy: (b.y + b.height / 2 - (a.y + a.height / 2)) / dt,
    width: (b.width - a.width) / dt,
    height: (b.height - a.height) / dt,
  };
}

/** Blends a new measurement into the running velocity: detector boxes jitter, one pair of frames is noisy. */
export function smooth(previous: Velocity, measured: Velocity, weight: number): Velocity {
  const mix = (p: number, m: number) => p + (m - p) * weight;
  return { cx: mix(previous.cx, measured.cx), cy: mix(previous.cy, measured.cy), width: mix(previous.width, measured.width), height: mix(previous.height, measured.height) };
}

/** Box `frames` frames after (negative: before) `from`, moved by v; its size never drops below half of from's. */
export function extrapolate(from: Rect, v: Velocity, frames: number): Rect {
  const width = Math.max(from.width / 2, from.width + v.width * frames);
  const height = Math.max(from.height / 2, from.height + v.height * frames);
  const cx = from.x + from.width / 2 + v.cx * frames;
  const cy = from.y + from.height / 2 + v.cy * frames;
  return { x: cx - width / 2, y: cy - height / 2, width, height };
}

/** Tracks with their own velocity needed before their median stands for the scene's motion. */
const SCENE_MIN_TRACKS = 3;

/** The median velocity of many tracks (a camera's pan), or null when there are too few to say. */
export function sceneVelocity(velocities: Velocity[]): Velocity | null {
  if (velocities.length < SCENE_MIN_TRACKS) return null;
  const median = (key: keyof Velocity) => {
    const v = velocities.map((x) => x[key]).sort((a, b) => a - b);
    const mid = v.length >> 1;
    return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  };
  return { cx: median('cx'), cy: median('cy'), width: median('width'), height: median('height') };
}
