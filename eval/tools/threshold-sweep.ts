// Plate threshold from one eval run instead of one run per threshold: openalpr recall per region and
// unlabelled boxes per image (those not overlapping the labelled plate) as the threshold rises above
// the run's own. Approximate: a box dropped by a higher threshold is not replaced by a weaker match.
// Usage: node --import tsx eval/tools/threshold-sweep.ts [results.json (default eval/results/latest.json)] [class (default plate)]
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../ground-truth.js';
import { loadOpenalpr } from '../openalpr.js';

const [file = path.join(repoRoot, 'eval', 'results', 'latest.json'), cls = 'plate'] = process.argv.slice(2);
interface PerImage {
  image: string;
  matchedScores?: Array<{ class: string; score: number }>;
}
const run = JSON.parse(fs.readFileSync(file, 'utf8')) as { perImage: PerImage[]; unlabelled: Array<{ image: string; score: number; box: { x: number; y: number; width: number; height: number } }>; thresholds: Record<string, number> };
// Boxes overlapping the labelled plate are duplicates or loose fits of it, not other objects (as in run.ts).
const labels = new Map((await loadOpenalpr()).map((o) => [o.name, o.gt.objects[0].box]));
const overlapsLabel = (u: (typeof run.unlabelled)[number]) => {
  const [x, y, w, h] = labels.get(u.image)!;
  return Math.min(x + w, u.box.x + u.box.width) > Math.max(x, u.box.x) && Math.min(y + h, u.box.y + u.box.height) > Math.max(y, u.box.y);
};
const openalpr = run.perImage.filter((p) => p.image.startsWith('openalpr:'));
const fixtures = run.perImage.filter((p) => p.image.startsWith('fixtures:'));
const regions = [...new Set(openalpr.map((p) => p.image.split(/[:/]/)[1]))];
const start = run.thresholds[cls] ?? 0;
console.log(`threshold  ${regions.map((r) => `recall-${r}`.padEnd(10)).join(' ')} fixtures-found  unlabelled/img`);
for (const t of [start, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6].filter((t) => t >= start)) {
  const found = (p: PerImage) => (p.matchedScores ?? []).filter((m) => m.class === cls && m.score >= t).length;
  const recall = regions.map((r) => {
    const imgs = openalpr.filter((p) => p.image.startsWith(`openalpr:${r}/`));
    return (imgs.reduce((n, p) => n + Math.min(1, found(p)), 0) / imgs.length).toFixed(3).padEnd(10);
  });
  const off = run.unlabelled.filter((u) => !overlapsLabel(u) && u.score >= t).length / Math.max(1, openalpr.length);
  console.log(`${t.toFixed(2).padEnd(10)} ${recall.join(' ')} ${String(fixtures.reduce((n, p) => n + found(p), 0)).padEnd(15)} ${off.toFixed(3)}`);
}
