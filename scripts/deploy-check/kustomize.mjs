// Renders a kustomization: with `kubectl kustomize` when it embeds kustomize >= 4, else with a
// small renderer for the subset k8s/ uses (resources, namespace, labels, patches, images).
// When kubectl is there, both run and must agree, so the fallback stays honest.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export function kubectlKustomizeVersion() {
  try {
    const out = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /Kustomize Version: v(\d+)\.(\d+)\.(\d+)/.exec(out);
    return m && Number(m[1]) >= 4 ? `v${m[1]}.${m[2]}.${m[3]}` : null;
  } catch {
    return null;
  }
}

export function renderWithKubectl(YAML, dir) {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return YAML.parseAllDocuments(out).map((d) => d.toJSON()).filter(Boolean);
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'patches', 'images']);

function readDocs(YAML, file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJSON();
  }).filter(Boolean);
}

/** Strategic merge for the shapes used here: maps merge, lists of named objects merge by name. */
function merge(base, patch) {
  if (Array.isArray(base) && Array.isArray(patch)) {
    if (!patch.every((p) => p && typeof p === 'object' && 'name' in p) || !base.every((b) => b && typeof b === 'object' && 'name' in b)) return structuredClone(patch);
    const out = base.map((b) => structuredClone(b));
    for (const p of patch) {
      const i = out.findIndex((b) => b.name === p.name);
      if (i >= 0) out[i] = merge(out[i], p);
      else out.push(structuredClone(p));
    }
    return out;
  }
  if (base && patch && typeof base === 'object' && typeof patch === 'object' && !Array.isArray(base) && !Array.isArray(patch)) {
    const out = structuredClone(base);
    for (const [k, v] of Object.entries(patch)) out[k] = k in out ? merge(out[k], v) : structuredClone(v);
    return out;
  }
  return structuredClone(patch);
}

function containersOf(obj) {
  const spec = obj.spec?.template?.spec ?? obj.spec?.jobTemplate?.spec?.template?.spec;
  return spec ? [...(spec.containers ?? []), ...(spec.initContainers ?? [])] : [];
}

export function renderWithFallback(YAML, dir) {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`no kustomization in ${dir}`);
  const k = YAML.parse(fs.readFileSync(file, 'utf8'));
  for (const key of Object.keys(k)) if (!SUPPORTED.has(key)) throw new Error(`${file}: field "${key}" is not supported by the fallback renderer`);
  let objects = [];
  for (const entry of k.resources ?? []) {
    const target = path.join(dir, entry);
    objects.push(...(fs.statSync(target).isDirectory() ? renderWithFallback(YAML, target) : readDocs(YAML, target)));
  }
  for (const p of k.patches ?? []) {
    if (!p.path || p.target) throw new Error(`${file}: only file patches without target are supported by the fallback renderer`);
    for (const patch of readDocs(YAML, path.join(dir, p.path))) {
      const i = objects.findIndex((o) => o.kind === patch.kind && o.metadata?.name === patch.metadata?.name);
      if (i < 0) throw new Error(`${file}: patch ${p.path} matches no ${patch.kind} ${patch.metadata?.name}`);
      objects[i] = merge(objects[i], patch);
    }
  }
  for (const o of objects) {
    if (k.namespace && o.kind !== 'Namespace') o.metadata.namespace = k.namespace;
    for (const l of k.labels ?? []) {
      if (l.includeSelectors || l.includeTemplates) throw new Error(`${file}: labels with includeSelectors/includeTemplates are not supported by the fallback renderer`);
      o.metadata.labels = { ...(o.metadata.labels ?? {}), ...l.pairs };
    }
    for (const img of k.images ?? []) {
      for (const c of containersOf(o)) {
        const [name] = c.image.split(':');
        if (name === img.name) c.image = `${img.newName ?? name}:${img.newTag ?? c.image.split(':')[1]}`;
      }
    }
  }
  return objects;
}

/** Order-independent form of a rendered set, to compare the two renderers. */
export function canonical(objects) {
  const sortKeys = (v) => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v);
  return objects.map((o) => JSON.stringify(sortKeys(o))).sort();
}
