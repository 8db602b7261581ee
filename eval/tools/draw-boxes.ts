// Labelling aid: draws an image's ground-truth boxes over it so the labels can be checked by eye.
// Usage: node --import tsx eval/tools/draw-boxes.ts <image key, e.g. fixtures:faces/uf_1.jpg> <out.png>
import sharp from 'sharp';
import { loadGroundTruth, resolveImage } from '../ground-truth.js';

const [key, out] = process.argv.slice(2);
const entry = loadGroundTruth().find((e) => e.image === key);
if (!entry) throw new Error(`no ground truth for ${key}`);
const colors: Record<string, string> = { face: 'lime', plate: 'red', vehicle: 'cyan', person: 'magenta' };
const rects = entry.objects.map((o) => `<rect x="${o.box[0]}" y="${o.box[1]}" width="${o.box[2]}" height="${o.box[3]}" fill="none" stroke="${colors[o.class]}" stroke-width="1"/>`);
const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${entry.width}" height="${entry.height}">${rects.join('')}</svg>`);
await sharp(resolveImage(entry.image)).rotate().composite([{ input: svg }]).png().toFile(out);
