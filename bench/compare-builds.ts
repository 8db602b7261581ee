// Summary of bench/compare-builds.sh: per profile and build, the medians over its rounds of the
// numbers issue 20 sets targets on, read from the JSON each bench run wrote.
import fs from 'node:fs';
import path from 'node:path';

interface Run {
  single_thread_ms_per_image: number;
  limit_images_per_second: number;
  pool: Array<{ images_per_second: number; cpu?: { process_cpu_ms_per_image: number; groups: Array<{ group: string; asleep_share: number }> } }>;
  end_to_end_http: { images_per_second: number; server_cpu?: { process_cpu_ms_per_image: number }; client_cpu_ms_per_image?: number };
  ratios: { pool_over_limit: number; end_to_end_over_limit: number };
  model_vs_stage?: Array<{ detector: string; stage_over_model: number }>;
  load_average?: { start: number; end: number };
}

const median = (values: number[]) => {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : Math.round(((v[v.length / 2 - 1] + v[v.length / 2]) / 2) * 100) / 100;
};

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node dist/bench/compare-builds.js <bench/results/compare-… folder>');
  process.exit(2);
}
const runs = new Map<string, Run[]>();
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const [, profile, build] = /^(.+)-(old|new)-\d+\.json$/.exec(file) ?? [];
  if (!profile) continue;
  const report = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const key = `${profile} ${build}`;
  runs.set(key, [...(runs.get(key) ?? []), report.profiles[0] as Run]);
}
const rows = [...runs.entries()].map(([key, list]) => ({
  'profile build': key,
  rounds: list.length,
  single_ms: median(list.map((r) => r.single_thread_ms_per_image)),
  limit: median(list.map((r) => r.limit_images_per_second)),
  pool: median(list.map((r) => r.pool[0].images_per_second)),
  http_e2e: median(list.map((r) => r.end_to_end_http.images_per_second)),
  pool_over_limit: median(list.map((r) => r.ratios.pool_over_limit)),
  e2e_over_limit: median(list.map((r) => r.ratios.end_to_end_over_limit)),
  faces_stage_over_model: median(list.map((r) => r.model_vs_stage?.find((m) => m.detector === 'faces')?.stage_over_model ?? NaN)),
  pool_cpu_ms: median(list.map((r) => r.pool[0].cpu?.process_cpu_ms_per_image ?? NaN)),
  pool_threads_asleep: median(list.map((r) => r.pool[0].cpu?.groups.find((g) => g.group === 'pool')?.asleep_share ?? NaN)),
  server_cpu_ms: median(list.map((r) => r.end_to_end_http.server_cpu?.process_cpu_ms_per_image ?? NaN)),
  client_cpu_ms: median(list.map((r) => r.end_to_end_http.client_cpu_ms_per_image ?? NaN)),
  load: median(list.flatMap((r) => (r.load_average ? [r.load_average.start, r.load_average.end] : []))),
}));
console.log(`\n${dir}: medians per profile and build (old builds lack the CPU and model columns)`);
console.table(rows);
