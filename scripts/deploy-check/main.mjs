// Deployment checks (run through scripts/check-deploy.sh, which installs the tools):
// k8s overlays render and validate, Dockerfiles lint, compose parses, Prometheus config and
// alert rules pass promtool, the dashboard is well formed, and every metric the dashboard and
// alerts use is exported by a running pixveil. Ends with "N passed, M failed"; exit 1 on any failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lintDockerfile } from './dockerfile-lint.mjs';
import { canonical, kubectlKustomizeVersion, renderWithFallback, renderWithKubectl } from './kustomize.mjs';
import { typecheckObjects, validateObjects } from './k8s-schema.mjs';
import { scrapeRunningPixveil } from './live-metrics.mjs';
import { metricNames } from './promql-names.mjs';

/** Every `env` a schema node names (the variable that sets it), nested objects included. */
function envNames(schema) {
  const own = typeof schema.env === 'string' ? [schema.env] : [];
  return [...own, ...Object.values(schema.properties ?? {}).flatMap(envNames)];
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tools = process.env.DEPLOY_CHECK_TOOLS;
const promtool = process.env.PROMTOOL ?? 'promtool';
const modelDir = path.resolve(repo, process.env.DEPLOY_CHECK_MODEL_DIR ?? '../shared/models');
if (!tools) throw new Error('DEPLOY_CHECK_TOOLS is not set: run scripts/check-deploy.sh');
const YAML = createRequire(path.join(tools, 'package.json'))('yaml');

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    const problems = (await fn()) ?? [];
    if (problems.length === 0) {
      passed++;
      console.log(`ok    ${name}`);
    } else {
      failed++;
      console.log(`FAIL  ${name}\n${problems.map((p) => `        ${p}`).join('\n')}`);
    }
  } catch (err) {
    failed++;
    console.log(`FAIL  ${name}\n        ${(err.stack ?? String(err)).split('\n').join('\n        ')}`);
  }
}
const rel = (p) => path.relative(repo, p);
// merge: compose.yaml shares service settings through YAML merge keys (<<).
const readYaml = (p) => YAML.parse(fs.readFileSync(p, 'utf8'), { merge: true });

// ---------- Kubernetes ----------
const kustomizeVersion = kubectlKustomizeVersion();
const overlays = fs.readdirSync(path.join(repo, 'k8s/overlays')).map((d) => path.join(repo, 'k8s/overlays', d));
const rendered = new Map();
for (const dir of overlays) {
  const label = rel(dir);
  await check(`${label}: kustomize build (${kustomizeVersion ? `kubectl kustomize ${kustomizeVersion}, and the fallback renderer agrees` : 'fallback renderer; kubectl with kustomize not found'})`, () => {
    const fallback = renderWithFallback(YAML, dir);
    rendered.set(label, fallback);
    if (!kustomizeVersion) return [];
    const real = renderWithKubectl(YAML, dir);
    rendered.set(label, real);
    const a = canonical(real);
    const b = canonical(fallback);
    return a.filter((x) => !b.includes(x)).map((x) => `fallback renderer differs on ${JSON.parse(x).kind}/${JSON.parse(x).metadata.name}`);
  });
  const objects = () => rendered.get(label) ?? [];
  await check(`${label}: ${objects().length} objects valid against the Kubernetes/KEDA schemas (kubernetes-models)`, () => validateObjects(tools, label, objects()));
  await check(`${label}: no unknown or misplaced fields (typed TypeScript literals, tsc)`, () => typecheckObjects(tools, label, objects()));
  await check(`${label}: every setting of src/config/schema.ts is in the ConfigMap or Secret`, async () => {
    const { ConfigSchema } = await import(pathToFileURL(path.join(repo, 'dist/src/config/schema.js')).href);
    const wanted = envNames(ConfigSchema);
    const have = new Set(objects().filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret').flatMap((o) => Object.keys({ ...o.data, ...o.stringData })));
    if (wanted.length < 10) return [`found only ${wanted.length} settings in ConfigSchema: do its nodes still name their variable as env?`];
    return wanted.filter((n) => !have.has(n)).map((n) => `${n} is a setting (ConfigSchema) but set in neither`);
  });
  await check(`${label}: KEDA stream and group match src/redis/keys.ts (prefix pixveil, queue images)`, async () => {
    const { queueKeys } = await import(pathToFileURL(path.join(repo, 'dist/src/redis/keys.js')).href);
    const keys = queueKeys('pixveil', 'images');
    const triggers = objects().filter((o) => o.kind === 'ScaledObject').flatMap((o) => o.spec.triggers);
    if (triggers.length === 0) return ['no ScaledObject trigger'];
    return triggers.flatMap((t) => [
      ...(t.metadata.stream === keys.stream ? [] : [`stream ${t.metadata.stream}, expected ${keys.stream}`]),
      ...(t.metadata.consumerGroup === keys.group ? [] : [`consumerGroup ${t.metadata.consumerGroup}, expected ${keys.group}`]),
    ]);
  });
  await check(`${label}: pixveil containers probe /v1/health (liveness) and /v1/ready (readiness)`, () =>
    objects().filter((o) => o.kind === 'Deployment').flatMap((o) => o.spec.template.spec.containers.flatMap((c) => [
      ...(c.livenessProbe?.httpGet?.path === '/v1/health' ? [] : [`${o.metadata.name}/${c.name}: liveness is not /v1/health`]),
      ...(c.readinessProbe?.httpGet?.path === '/v1/ready' ? [] : [`${o.metadata.name}/${c.name}: readiness is not /v1/ready`]),
    ])));
}

// ---------- Docker ----------
const dockerfiles = fs.readdirSync(path.join(repo, 'docker')).filter((f) => /^Dockerfile/.test(f)).map((f) => path.join(repo, 'docker', f));
await check('Dockerfile lint catches a bad Dockerfile (self-test)', () => {
  const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lint-')), 'Dockerfile');
  fs.writeFileSync(tmp, 'FROM node:latest\nADD https://example.com/x.tgz /x\nRUN apt-get install curl\nCMD node x.js\n');
  const found = lintDockerfile(tmp).length;
  fs.rmSync(path.dirname(tmp), { recursive: true });
  return found >= 6 ? [] : [`expected at least 6 problems, got ${found}`];
});
for (const file of dockerfiles) await check(`${rel(file)}: lint (pinned bases, non-root USER, HEALTHCHECK, no ADD of URLs, apt lists cleaned)`, () => lintDockerfile(file));
await check('.dockerignore keeps node_modules, dist and model weights out of the build context', () => {
  const lines = fs.readFileSync(path.join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  return ['node_modules', 'dist', '.git', '**/*.onnx'].filter((p) => !lines.includes(p)).map((p) => `missing ${p}`);
});
await check('docker/compose.yaml: parses; every image pinned; workers x2, Redis with AOF', () => {
  const compose = readYaml(path.join(repo, 'docker/compose.yaml'));
  const problems = [];
  for (const [name, svc] of Object.entries(compose.services)) {
    const tag = svc.image?.split('/').pop().split(':')[1];
    if (!svc.image) problems.push(`${name}: no image`);
    else if (!tag || tag === 'latest') problems.push(`${name}: image ${svc.image} not pinned`);
    for (const v of svc.volumes ?? []) {
      const src = String(v).split(':')[0];
      if (src.startsWith('.') && !fs.existsSync(path.join(repo, 'docker', src))) problems.push(`${name}: mounts ${src}, which does not exist`);
    }
  }
  if (compose.services.worker?.deploy?.replicas !== 2) problems.push('worker replicas is not 2');
  if (!compose.services.redis?.command?.join(' ').includes('--appendonly yes')) problems.push('redis without --appendonly yes');
  return problems;
});

// ---------- Prometheus ----------
const promDir = path.join(repo, 'monitoring/prometheus');
const run = (args, cwd = promDir) => execFileSync(promtool, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
const promtoolProblems = (fn) => {
  try {
    fn();
    return [];
  } catch (err) {
    return [`${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || err.message];
  }
};
await check('monitoring/prometheus/alerts.yml: promtool check rules', () => promtoolProblems(() => run(['check', 'rules', 'alerts.yml'])));
await check('monitoring/prometheus/alerts.test.yml: promtool test rules (each alert fires when it should)', () => promtoolProblems(() => run(['test', 'rules', 'alerts.test.yml'])));
for (const conf of ['prometheus.yml', 'kubernetes-sd.yml']) {
  await check(`monitoring/prometheus/${conf}: promtool check config`, () => {
    // Rule paths are where the container mounts them; point them at the repo's copy.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'promconf-'));
    const parsed = readYaml(path.join(promDir, conf));
    parsed.rule_files = (parsed.rule_files ?? []).map((f) => path.join(promDir, path.basename(f)));
    fs.writeFileSync(path.join(tmp, conf), YAML.stringify(parsed));
    try {
      const problems = promtoolProblems(() => run(['check', 'config', path.join(tmp, conf)], tmp));
      // Debian's promtool is built without Kubernetes service discovery; say so instead of failing.
      if (problems.length && /kubernetes_sd_configs not found/.test(problems[0])) {
        console.log(`note  ${conf}: this promtool lacks kubernetes_sd_configs (Debian build); checked the rest of it`);
        for (const job of parsed.scrape_configs) delete job.kubernetes_sd_configs;
        fs.writeFileSync(path.join(tmp, conf), YAML.stringify(parsed));
        return promtoolProblems(() => run(['check', 'config', path.join(tmp, conf)], tmp));
      }
      return problems;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}

// ---------- Grafana ----------
const dashboardFile = path.join(repo, 'monitoring/grafana/dashboards/pixveil.json');
let dashboard;
await check(`${rel(dashboardFile)}: valid dashboard JSON`, () => {
  dashboard = JSON.parse(fs.readFileSync(dashboardFile, 'utf8'));
  const problems = [];
  if (!dashboard.uid || !dashboard.title || !Array.isArray(dashboard.panels)) problems.push('needs uid, title and panels');
  if (!dashboard.templating?.list?.some((v) => v.name === 'datasource' && v.type === 'datasource' && v.query === 'prometheus')) problems.push('no prometheus ${datasource} variable');
  const ids = new Set();
  for (const p of dashboard.panels ?? []) {
    if (ids.has(p.id)) problems.push(`duplicate panel id ${p.id}`);
    ids.add(p.id);
    const g = p.gridPos;
    if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) problems.push(`panel ${p.id} "${p.title}": bad gridPos`);
    if (p.type === 'row') continue;
    if (p.datasource?.uid !== '${datasource}') problems.push(`panel ${p.id} "${p.title}": datasource is not \${datasource}`);
    if (!p.targets?.length) problems.push(`panel ${p.id} "${p.title}": no queries`);
    for (const t of p.targets ?? []) if (!t.expr?.trim()) problems.push(`panel ${p.id} "${p.title}": empty expr`);
  }
  const provisioning = readYaml(path.join(repo, 'monitoring/grafana/provisioning/dashboards/pixveil.yaml'));
  if (provisioning.providers?.[0]?.options?.path !== '/var/lib/grafana/dashboards') problems.push('dashboard provider path does not match the compose mount');
  return problems;
});

// ---------- Metric names against a running pixveil ----------
const used = new Map();
const note = (name, where) => used.set(name, [...(used.get(name) ?? []), where]);
for (const p of dashboard?.panels ?? []) for (const t of p.targets ?? []) for (const n of metricNames(t.expr ?? '')) note(n, `dashboard "${p.title}"`);
for (const g of readYaml(path.join(promDir, 'alerts.yml')).groups) for (const r of g.rules) for (const n of metricNames(r.expr)) note(n, `alert ${r.alert}`);
// Made by Prometheus itself, not by pixveil.
const builtin = new Set(['up', 'vector']);
await check(`every metric the dashboard and alerts use (${used.size}) is exported by a running pixveil (${rel(modelDir) || modelDir})`, async () => {
  if (!fs.existsSync(path.join(repo, 'dist/src/cli.js'))) return ['dist/src/cli.js missing: build first (npx tsc -p .)'];
  const { names } = await scrapeRunningPixveil(repo, modelDir);
  return [...used].filter(([n]) => !builtin.has(n) && !names.has(n)).map(([n, where]) => `${n} (used by ${[...new Set(where)].join(', ')}) is not in /metrics`);
});

console.log(`\ndeploy-check: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
