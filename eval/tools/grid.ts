// Labelling aid: renders an image (EXIF-rotated) as PNG with a labelled pixel grid, optionally
// cropped and zoomed, so ground-truth boxes can be read off by eye.
// Usage: node --import tsx eval/tools/grid.ts <image> <out.png> [x y w h] [zoom] [step]
import sharp from 'sharp';

const [file, out, ...rest] = process.argv.slice(2);
const [cx, cy, cw, ch, zoomArg, stepArg] = rest.map(Number);
const base = sharp(file).rotate();
const meta = await sharp(await base.clone().png().toBuffer()).metadata();
const crop = rest.length >= 4 ? { left: cx, top: cy, width: cw, height: ch } : { left: 0, top: 0, width: meta.width!, height: meta.height! };
const zoom = zoomArg || 1;
const step = stepArg || 50;
const W = Math.round(crop.width * zoom);
const H = Math.round(crop.height * zoom);
const lines: string[] = [];
for (let x = Math.ceil(crop.left / step) * step; x < crop.left + crop.width; x += step) {
  const px = (x - crop.left) * zoom;
  lines.push(`<line x1="${px}" y1="0" x2="${px}" y2="${H}" stroke="${x % (step * 2) ? 'yellow' : 'cyan'}" stroke-width="1" opacity="0.6"/>`);
  lines.push(`<text x="${px + 2}" y="12" font-size="11" fill="yellow" stroke="black" stroke-width="0.3">${x}</text>`);
}
for (let y = Math.ceil(crop.top / step) * step; y < crop.top + crop.height; y += step) {
  const py = (y - crop.top) * zoom;
  lines.push(`<line x1="0" y1="${py}" x2="${W}" y2="${py}" stroke="${y % (step * 2) ? 'yellow' : 'cyan'}" stroke-width="1" opacity="0.6"/>`);
  lines.push(`<text x="2" y="${py - 2}" font-size="11" fill="yellow" stroke="black" stroke-width="0.3">${y}</text>`);
}
const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${lines.join('')}</svg>`);
await base.extract(crop).resize(W, H, { kernel: 'nearest' }).composite([{ input: svg }]).png().toFile(out);
