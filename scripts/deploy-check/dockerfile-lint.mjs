// Rule-based Dockerfile lint (hadolint is not installable here): the rules we rely on for a
// reproducible, least-privilege image. Returns "file:line: message" strings.
import fs from 'node:fs';

/** Instructions with continuation lines joined; comments and blank lines dropped. */
export function parseDockerfile(text) {
  const out = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (buf && line.trim().startsWith('#')) return;
    if (!buf) start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\w+)\s*(.*)$/.exec(buf);
      out.push({ line: start, op: m[1].toUpperCase(), args: m[2] });
      buf = '';
    }
  });
  return out;
}

export function lintDockerfile(file) {
  const problems = [];
  const say = (line, msg) => problems.push(`${file}:${line}: ${msg}`);
  const ins = parseDockerfile(fs.readFileSync(file, 'utf8'));
  const stages = new Set();
  let lastFrom = -1;
  ins.forEach((i, n) => {
    if (i.op === 'FROM') {
      lastFrom = n;
      const [image, , alias] = i.args.split(/\s+/);
      if (alias) stages.add(alias.toLowerCase());
      if (stages.has(image.toLowerCase()) && image.toLowerCase() !== alias?.toLowerCase()) return;
      if (image.includes('$')) say(i.line, `base image ${image} comes from a build arg: pin it literally`);
      else if (!image.includes('@sha256:')) {
        const tag = image.split('/').pop().split(':')[1];
        if (!tag || tag === 'latest') say(i.line, `base image ${image} is not pinned to a tag`);
        else if (!/\d+\.\d+/.test(tag)) say(i.line, `base image ${image}: pin a version tag (major.minor at least), not a moving one`);
      }
    }
    if (i.op === 'ADD' && /(^|\s)(https?|git):\/\//.test(i.args)) say(i.line, 'ADD of a URL: download in a RUN with a checksum instead');
    if (i.op === 'RUN' && /apt-get\s+install/.test(i.args)) {
      if (!/apt-get\s+update/.test(i.args)) say(i.line, 'apt-get install without apt-get update in the same RUN');
      if (!/rm -rf \/var\/lib\/apt\/lists/.test(i.args)) say(i.line, 'apt lists not removed in the same RUN (rm -rf /var/lib/apt/lists/*)');
      if (!/--no-install-recommends/.test(i.args)) say(i.line, 'apt-get install without --no-install-recommends');
      if (!/\s-y\b|--yes/.test(i.args)) say(i.line, 'apt-get install without -y');
    }
    if (i.op === 'RUN' && /curl[^|]*\|\s*(ba)?sh/.test(i.args)) say(i.line, 'piping a download into a shell');
    if (i.op === 'MAINTAINER') say(i.line, 'MAINTAINER is deprecated: use a LABEL');
  });
  const final = ins.slice(lastFrom + 1);
  const users = final.filter((i) => i.op === 'USER');
  const user = users.at(-1)?.args.trim();
  if (!user) say(ins[lastFrom]?.line ?? 1, 'final stage has no USER: the service would run as root');
  else if (/^(root|0)(:|$)/.test(user)) say(users.at(-1).line, `final stage runs as ${user}`);
  if (!final.some((i) => i.op === 'HEALTHCHECK' && !/^NONE\b/i.test(i.args))) say(ins[lastFrom]?.line ?? 1, 'final stage has no HEALTHCHECK');
  if (!final.some((i) => i.op === 'ENTRYPOINT' || i.op === 'CMD')) say(ins[lastFrom]?.line ?? 1, 'final stage has no ENTRYPOINT or CMD');
  for (const i of final.filter((x) => x.op === 'ENTRYPOINT' || x.op === 'CMD')) {
    if (!i.args.trim().startsWith('[')) say(i.line, `${i.op} in shell form: signals would go to /bin/sh, not node`);
  }
  return problems;
}
