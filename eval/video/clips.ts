// Video clips with known boxes in every frame, made in memory from the labelled photos: a virtual
// camera pans and zooms over a photo with labelled faces (each frame is a crop window resized to
// the clip's size, so each label moves exactly with the window), and openalpr cars drive across a
// street in lanes at different speeds. Frames are made one at a time when asked for, never stored.
import sharp, { type OverlayOptions } from 'sharp';
import { loadGroundTruth, resolveImage, type GtClass, type GtImage } from '../ground-truth.js';
import { loadOpenalpr, type OpenalprImage } from '../openalpr.js';

export const CLIP_WIDTH = 1280;
export const CLIP_HEIGHT = 720;
export const CLIP_FRAMES = 60;
/** JPEG quality of each frame: a video's frames carry compression too. */
const FRAME_QUALITY = 88;
/** A label counts in a frame when this share of its box is inside the frame... */
const MIN_VISIBLE_SHARE = 0.75;
/** ...and its visible part is at least this many pixels on its short side. */
const MIN_VISIBLE_PX = 8;

export interface FrameLabel {
  /** Stable across frames: which labelled object this is. */
  object: number;
  class: GtClass;
  box: [number, number, number, number];
}

export interface Clip {
  name: string;
  width: number;
  height: number;
  frames: number;
  /** The frame's pixels (JPEG) and the labels inside it. */
  frame(index: number): Promise<{ data: Buffer; labels: FrameLabel[] }>;
}

interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

interface RawPhoto {
  data: Buffer;
  width: number;
  height: number;
}

async function rawPhoto(file: string): Promise<RawPhoto> {
  const { data, info } = await sharp(file).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const raw = (p: RawPhoto) => ({ raw: { width: p.width, height: p.height, channels: 3 as const } });

/** The label's box in the frame, clipped, or null when too little of it is inside. */
function placed(box: [number, number, number, number], width: number, height: number): [number, number, number, number] | null {
  const [x, y, w, h] = box;
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(width, x + w);
  const y1 = Math.min(height, y + h);
  if (x1 <= x0 || y1 <= y0) return null;
  if (((x1 - x0) * (y1 - y0)) / (w * h) < MIN_VISIBLE_SHARE || Math.min(x1 - x0, y1 - y0) < MIN_VISIBLE_PX) return null;
  return [x0, y0, x1 - x0, y1 - y0];
}

const mix = (a: number, b: number, t: number) => a + (b - a) * t;

interface Scene {
  photo: RawPhoto;
  objects: GtImage['objects'];
}

/** A labelled fixture photo as it is. */
function photoScene(image: string): () => Promise<Scene> {
  return async () => {
    const gt = loadGroundTruth().find((g) => g.image === image);
    if (!gt) throw new Error(`no labels for ${image}`);
    return { photo: await rawPhoto(resolveImage(image)), objects: gt.objects };
  };
}

/** Group photos shrunk (so their faces are small) and pasted at given spots onto a street photo of width × height. */
function pastedScene(width: number, height: number, pastes: Array<{ image: string; scale: number; left: number; top: number }>): () => Promise<Scene> {
  return async () => {
    const all = loadGroundTruth();
    const layers: OverlayOptions[] = [];
    const objects: GtImage['objects'] = [];
    for (const p of pastes) {
      const gt = all.find((g) => g.image === p.image);
      if (!gt) throw new Error(`no labels for ${p.image}`);
      const [w, h] = [Math.round(gt.width * p.scale), Math.round(gt.height * p.scale)];
      layers.push({ input: await sharp(resolveImage(p.image)).rotate().resize(w, h, { fit: 'fill' }).png().toBuffer(), left: p.left, top: p.top });
      const [sx, sy] = [w / gt.width, h / gt.height];
      for (const o of gt.objects) objects.push({ class: o.class, box: [p.left + o.box[0] * sx, p.top + o.box[1] * sy, o.box[2] * sx, o.box[3] * sy] });
    }
    const { data, info } = await sharp(resolveImage('darknet:horses.jpg')).rotate().resize(width, height, { fit: 'cover' }).removeAlpha().composite(layers).raw().toBuffer({ resolveWithObject: true });
    return { photo: { data, width: info.width, height: info.height }, objects };
  };
}

/** A camera moving from window `from` to window `to` over a labelled scene (linear in time, integer windows). */
function cameraClip(name: string, makeScene: () => Promise<Scene>, from: Window, to: Window): Clip {
  let scene: Promise<Scene> | undefined;
  return {
    name,
    width: CLIP_WIDTH,
    height: CLIP_HEIGHT,
    frames: CLIP_FRAMES,
    async frame(index) {
      scene ??= makeScene();
      const { photo: p, objects } = await scene;
      const t = index / (CLIP_FRAMES - 1);
      const w: Window = {
        left: Math.round(mix(from.left, to.left, t)),
        top: Math.round(mix(from.top, to.top, t)),
        width: Math.round(mix(from.width, to.width, t)),
        height: Math.round(mix(from.height, to.height, t)),
      };
      if (w.left < 0 || w.top < 0 || w.left + w.width > p.width || w.top + w.height > p.height) throw new Error(`${name}: window ${JSON.stringify(w)} leaves the ${p.width}x${p.height} scene`);
      const data = await sharp(p.data, raw(p)).extract(w).resize(CLIP_WIDTH, CLIP_HEIGHT, { fit: 'fill' }).jpeg({ quality: FRAME_QUALITY }).toBuffer();
      const [sx, sy] = [CLIP_WIDTH / w.width, CLIP_HEIGHT / w.height];
      const labels: FrameLabel[] = [];
      objects.forEach((o, object) => {
        if (o.class !== 'face' && o.class !== 'plate') return;
        const box = placed([(o.box[0] - w.left) * sx, (o.box[1] - w.top) * sy, o.box[2] * sx, o.box[3] * sy], CLIP_WIDTH, CLIP_HEIGHT);
        if (box) labels.push({ object, class: o.class, box });
      });
      return { data, labels };
    },
  };
}

interface Car {
  sprite: RawPhoto;
  plate: [number, number, number, number];
  top: number;
  startX: number;
  pxPerFrame: number;
}

/** A window of the car photo around its plate, shrunk so the plate is `plateHeight` px tall. */
async function carSprite(photo: OpenalprImage, plateHeight: number, width: number, height: number): Promise<Omit<Car, 'top' | 'startX' | 'pxPerFrame'>> {
  const [x, y, w, h] = photo.gt.objects[0].box;
  const f = plateHeight / h;
  const winW = Math.min(photo.gt.width, Math.round(width / f));
  const winH = Math.min(photo.gt.height, Math.round(height / f));
  const left = Math.round(Math.min(Math.max(0, x + w / 2 - winW / 2), photo.gt.width - winW));
  const top = Math.round(Math.min(Math.max(0, y + h / 2 - winH / 2), photo.gt.height - winH));
  const [outW, outH] = [Math.round(winW * f), Math.round(winH * f)];
  const { data, info } = await sharp(photo.file).rotate().extract({ left, top, width: winW, height: winH }).resize(outW, outH, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const [fx, fy] = [info.width / winW, info.height / winH];
  return { sprite: { data, width: info.width, height: info.height }, plate: [(x - left) * fx, (y - top) * fy, w * fx, h * fy] };
}

/** Cars in three lanes over a street photo, each driving across at its own speed and direction. */
function carsClip(name: string, pick: (photos: OpenalprImage[]) => OpenalprImage[], plateHeights: number[], speeds: number[]): Clip {
  const LANE_HEIGHT = 240;
  const SPRITE_WIDTH = 400;
  let scene: Promise<{ street: RawPhoto; cars: Car[] }> | undefined;
  const build = async () => {
    const { data, info } = await sharp(resolveImage('darknet:horses.jpg')).rotate().resize(CLIP_WIDTH, CLIP_HEIGHT, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const photos = pick(await loadOpenalpr());
    const cars: Car[] = [];
    for (const [lane, photo] of photos.entries()) {
      const s = await carSprite(photo, plateHeights[lane], SPRITE_WIDTH, LANE_HEIGHT);
      const v = speeds[lane];
      // Rightward cars enter from the left edge, leftward ones from the right.
      const startX = v > 0 ? -s.sprite.width / 2 : CLIP_WIDTH - s.sprite.width / 2;
      cars.push({ ...s, top: lane * LANE_HEIGHT + Math.round((LANE_HEIGHT - s.sprite.height) / 2), startX, pxPerFrame: v });
    }
    return { street: { data, width: info.width, height: info.height }, cars };
  };
  return {
    name,
    width: CLIP_WIDTH,
    height: CLIP_HEIGHT,
    frames: CLIP_FRAMES,
    async frame(index) {
      scene ??= build();
      const { street, cars } = await scene;
      const layers: OverlayOptions[] = [];
      const labels: FrameLabel[] = [];
      for (const [object, car] of cars.entries()) {
        const left = Math.round(car.startX + car.pxPerFrame * index);
        // sharp composites only what lies inside the image: cut the visible part of the sprite first.
        const x0 = Math.max(0, left);
        const x1 = Math.min(CLIP_WIDTH, left + car.sprite.width);
        if (x1 - x0 < 1) continue;
        const input = await sharp(car.sprite.data, raw(car.sprite)).extract({ left: x0 - left, top: 0, width: x1 - x0, height: car.sprite.height }).png({ compressionLevel: 0 }).toBuffer();
        layers.push({ input, left: x0, top: car.top });
        const box = placed([left + car.plate[0], car.top + car.plate[1], car.plate[2], car.plate[3]], CLIP_WIDTH, CLIP_HEIGHT);
        if (box) labels.push({ object, class: 'plate', box });
      }
      const data = await sharp(street.data, raw(street)).composite(layers).jpeg({ quality: FRAME_QUALITY }).toBuffer();
      return { data, labels };
    },
  };
}

/**
 * The clips the eval runs, 60 frames of 1280×720 each (6 clips, 360 frames: a few minutes on 2 busy cores):
 * - pan:uf_17, pan:uf_1, zoom:uf_20: a camera over group photos (13, 52 and 10 labelled faces of about
 *   40–150 px; uf_17 is a crowd whose smaller faces are not labelled);
 * - pan:small-faces: a camera at 1:1 over four group photos shrunk so their faces are 10–23 px (most
 *   11–15), the sizes at which the detectors miss a face in some frames and not others;
 * - cars:us, cars:br: three openalpr cars each driving across a street (plates 24–36 and 14–18 px tall,
 *   8–27 px a frame).
 */
export function videoClips(): Clip[] {
  const byRegion = (region: string, n: number) => (photos: OpenalprImage[]) => photos.filter((p) => p.region === region).slice(0, n);
  const smallFaces = pastedScene(2200, 1000, [
    { image: 'fixtures:faces/uf_1.jpg', scale: 0.55, left: 60, top: 380 },
    { image: 'fixtures:faces/uf_20.jpg', scale: 0.2, left: 720, top: 220 },
    { image: 'fixtures:faces/uf_9.jpg', scale: 0.16, left: 1120, top: 520 },
    { image: 'fixtures:faces/uf_3.jpg', scale: 0.22, left: 1560, top: 330 },
  ]);
  return [
    cameraClip('pan:uf_17', photoScene('fixtures:faces/uf_17.jpg'), { left: 0, top: 0, width: 1120, height: 630 }, { left: 480, top: 268, width: 1120, height: 630 }),
    cameraClip('pan:uf_1', photoScene('fixtures:faces/uf_1.jpg'), { left: 0, top: 0, width: 640, height: 360 }, { left: 80, top: 118, width: 640, height: 360 }),
    cameraClip('zoom:uf_20', photoScene('fixtures:faces/uf_20.jpg'), { left: 0, top: 13, width: 1024, height: 576 }, { left: 232, top: 100, width: 560, height: 315 }),
    cameraClip('pan:small-faces', smallFaces, { left: 0, top: 120, width: 1280, height: 720 }, { left: 900, top: 250, width: 1280, height: 720 }),
    carsClip('cars:us', byRegion('us', 3), [24, 30, 36], [27, -12, 18]),
    carsClip('cars:br', byRegion('br', 3), [14, 16, 18], [-20, 15, -8]),
  ];
}
