// One markdown table from several eval results (eval/results/<label>.json): face recall per size bucket
// (fixtures + synthetic), plate recall on openalpr per region and on synthetic plates per bucket,
// openalpr cars shrunk into 1080p frames per bucket (synthetic-cars.ts), precision on fixtures,
// unlabelled openalpr boxes per image (not overlapping the labelled plate).
// Usage: node --import tsx eval/tools/summary.ts <label> [label...]
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../ground-truth.js';
import { loadOpenalpr } from '../openalpr.js';

type Tally = { gt: number; found: number };
interface Results {
  tallies: Record<string, Tally>;
  precision: Record<string, { dets: number; tp: number }>;
  unlabelled?: Array<{ image: string; box: { x: number; y: number; width: number; height: number } }>;
}
const labels = new Map((await loadOpenalpr()).map((o) => [o.name, o.gt.objects[0].box]));
const r3 = (v: number) => v.toFixed(3).replace(/^0\./, '.');
const recall = (res: Results, keys: string[]) => {
  const t = keys.map((k) => res.tallies[k]).filter(Boolean);
  const gt = t.reduce((n, x) => n + x.gt, 0);
  return gt ? r3(t.reduce((n, x) => n + x.found, 0) / gt) : '-';
};
const faceBuckets = ['12-16', '16-24', '24-32', '32-96'];
const plateBuckets = ['12-16', '16-24', '24-32', '32-96'];
console.log(`| config | face ${faceBuckets.join(' | face ')} | face prec. | openalpr us / eu / br | openalpr 16-24 / 24-32 | synth. plate ${plateBuckets.join(' | synth. plate ')} | cars plate ${plateBuckets.slice(0, 3).join(' | cars plate ')} | plate prec. | unlabelled / img |`);
console.log(`|${'---|'.repeat(9 + faceBuckets.length + plateBuckets.length)}`);
for (const label of process.argv.slice(2)) {
  const res = JSON.parse(fs.readFileSync(path.join(repoRoot, 'eval', 'results', `${label}.json`), 'utf8')) as Results;
  const face = faceBuckets.map((b) => recall(res, [`fixtures|face|${b}`, `synthetic|face|${b}`]));
  const regions = ['us', 'eu', 'br'].map((r) => recall(res, [`openalpr-${r}|plate|all`])).join(' / ');
  const alprSmall = ['16-24', '24-32'].map((b) => recall(res, [`openalpr|plate|${b}`])).join(' / ');
  const synthPlate = plateBuckets.map((b) => recall(res, [`synthetic|plate|${b}`]));
  const cars = plateBuckets.slice(0, 3).map((b) => recall(res, [`cars|plate|${b}`]));
  const prec = (cls: string) => (res.precision[cls]?.dets ? r3(res.precision[cls].tp / res.precision[cls].dets) : '-');
  const elsewhere = (res.unlabelled ?? []).filter((u) => {
    const [x, y, w, h] = labels.get(u.image)!;
    return !(Math.min(x + w, u.box.x + u.box.width) > Math.max(x, u.box.x) && Math.min(y + h, u.box.y + u.box.height) > Math.max(y, u.box.y));
  }).length;
  console.log(`| ${label} | ${face.join(' | ')} | ${prec('face')} | ${regions} | ${alprSmall} | ${synthPlate.join(' | ')} | ${cars.join(' | ')} | ${prec('plate')} | ${res.tallies['openalpr|plate|all'] ? (elsewhere / labels.size).toFixed(3) : '-'} |`);
}
