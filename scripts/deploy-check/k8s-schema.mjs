// Validates rendered objects two ways, since neither alone is strict:
//  1. kubernetes-models' validate(): the official OpenAPI schemas (types, required fields, formats);
//     @kubernetes-models/keda does the same from KEDA's CRDs. It ignores unknown fields, so
//  2. every object is written out as a typed TypeScript literal and compiled: excess-property
//     checks reject misspelt or misplaced fields (livenesProbe, a probe at pod level, ...).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

function modelModule(apiVersion, kind) {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

export async function validateObjects(tools, label, objects) {
  const failures = [];
  for (const o of objects) {
    const where = `${label}: ${o.kind}/${o.metadata?.name}`;
    const file = path.join(tools, 'node_modules', `${modelModule(o.apiVersion, o.kind)}.js`);
    if (!fs.existsSync(file)) {
      failures.push(`${where}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    const Model = (await import(pathToFileURL(file).href))[o.kind];
    try {
      new Model(o).validate();
    } catch (err) {
      failures.push(`${where}: ${err.message}`);
    }
  }
  return failures;
}

export function typecheckObjects(tools, label, objects) {
  const dir = fs.mkdtempSync(path.join(tools, 'typecheck-'));
  try {
    const lines = [];
    objects.forEach((o, i) => {
      lines.push(`import type { I${o.kind} as T${i} } from '${modelModule(o.apiVersion, o.kind)}';`);
      lines.push(`// ${o.kind}/${o.metadata?.name}`);
      lines.push(`export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`);
    });
    fs.writeFileSync(path.join(dir, 'objects.ts'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', skipLibCheck: true, types: [] },
      files: ['objects.ts'],
    }));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    try {
      execFileSync(process.execPath, [path.join(tools, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
      return [];
    } catch (err) {
      const src = fs.readFileSync(path.join(dir, 'objects.ts'), 'utf8').split('\n');
      // Name the object each error falls in: the nearest "// Kind/name" line above it.
      return String(err.stdout).trim().split('\n').filter((l) => /error TS/.test(l)).map((l) => {
        const line = Number(/\((\d+),\d+\)/.exec(l)?.[1] ?? 0);
        const owner = src.slice(0, line).reverse().find((s) => s.startsWith('// '))?.slice(3) ?? '?';
        return `${label}: ${owner}: ${l.replace(/^.*error /, '')}`;
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
