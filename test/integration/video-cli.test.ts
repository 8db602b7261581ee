import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import { makeClip, probe } from '../../harness/clips.js';
import { facesDir, modelDir } from '../../harness/fixtures.js';

const cli = path.join(packageRoot, 'dist', 'src', 'cli.js');

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, MODEL_DIR: modelDir, MODEL_PULL_ON_START: 'false', POOL_THREADS: '2', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('pixveil process: videos in a folder beside photos come out anonymized with their track records; a rerun skips them', async () => {
  const input = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-video-cli-'));
  const spec = { photo: path.join(facesDir, 'uf_3.jpg'), width: 320, height: 240, crop: { width: 960, height: 720 }, panPerFrame: 2, fps: 10, frames: 8, audio: true };
  fs.copyFileSync(makeClip({ ...spec, format: 'mp4', ext: 'mp4' }), path.join(input, 'drive.mp4'));
  fs.copyFileSync(makeClip({ ...spec, format: 'matroska', ext: 'mkv' }), path.join(input, 'drive2.mkv'));
  fs.copyFileSync(path.join(facesDir, 'uf_3.jpg'), path.join(input, 'photo.jpg'));
  fs.writeFileSync(path.join(input, 'notes.ts'), 'export const notAVideo = 1;\n');
  const out = path.join(input, 'out');
  const first = await runCli(['process', input, out, '--detect-every', '2', '--audio', 'drop']);
  assert.equal(first.code, 1, `one file (notes.ts) is no video: exit 1\n${first.stderr}`);
  const summary = JSON.parse(first.stdout);
  assert.deepEqual([summary.processed, summary.failed], [3, 1]);
  const failures = fs.readFileSync(path.join(out, 'failures.jsonl'), 'utf8');
  assert.match(failures, /"file":"notes.ts","code":"UNSUPPORTED_MEDIA_TYPE"/);
  for (const name of ['drive.mp4', 'drive2.mkv.mp4']) {
    const probed = probe(path.join(out, name));
    assert.deepEqual(probed.streams.map((s) => s.codec_type), ['video'], `${name}: audio dropped`);
    assert.equal(Number(probed.streams[0].nb_read_frames), 8);
    const record = JSON.parse(fs.readFileSync(path.join(out, `${name}.json`), 'utf8'));
    assert.equal(record.video.detectEvery, 2);
    assert.ok(record.tracks.filter((t: any) => t.kind === 'face').length >= 5, `${name}: face tracks`);
  }
  assert.ok(fs.existsSync(path.join(out, 'photo.jpg')));
  const again = await runCli(['process', input, out]);
  assert.equal(JSON.parse(again.stdout).skipped, 3);
  const bad = await runCli(['process', input, out, '--detect-every', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--detect-every/);
  fs.rmSync(input, { recursive: true, force: true });
});
