// Video through the whole service: a 1080p30 clip (a fixture photo panned and zoomed, with a tone)
// POSTed to /v1/videos of a `pixveil serve` process, timed from the upload to the stored result,
// at detect_every 1 (the default), 2 and 3. Frames per second, and each stage's share of the time
// the job recorded: decode and encode are the time spent waiting on ffmpeg for a frame or for it to
// take one; detect_* and blur are summed over frames in the pool threads (they overlap).
// `npm run bench` runs it after the image rows; `node dist/bench/video.js [--quick]` alone.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot } from '../src/paths.js';
import { facesDir } from '../harness/fixtures.js';
import { freePort } from '../harness/free-port.js';

export interface VideoBenchRow {
  detect_every: number;
  frames: number;
  seconds: number;
  frames_per_second: number;
  /** Share of the recorded stage time per stage, 0..1. */
  stage_share: Record<string, number>;
  stage_ms: Record<string, number>;
}

/** A 1080p30 clip of `frames` frames: uf_17.jpg (a crowd) panned and slowly zoomed, with a 440 Hz tone. */
function makeBenchClip(frames: number): string {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-bench-video-')), 'clip-1080p30.mp4');
  const seconds = frames / 30;
  execFileSync('ffmpeg', [
    '-hide_banner', '-v', 'error', '-y', '-loop', '1', '-framerate', '30', '-i', path.join(facesDir, 'uf_17.jpg'),
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-vf', "crop='iw*(0.9-0.1*n/" + frames + ")':'ih*(0.9-0.1*n/" + frames + ")':'n*2':0,scale=1920:1080,setsar=1",
    '-frames:v', String(frames), '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mp4', out,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

export async function videoBench(options: { quick: boolean; env?: Record<string, string> }): Promise<{ clip: string; rows: VideoBenchRow[] }> {
  const frames = options.quick ? 30 : 150;
  const clip = makeBenchClip(frames);
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-bench-'));
  const child = spawn(process.execPath, [path.join(packageRoot, 'dist', 'src', 'cli.js'), 'serve'], {
    env: { ...process.env, ...options.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', LATENCY_SLO_SECONDS: '0', MODEL_PULL_ON_START: 'false' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const rows: VideoBenchRow[] = [];
  try {
    for (let i = 0; !(await fetch(`${url}/v1/ready`).then((r) => r.ok, () => false)); i++) {
      if (i > 600) throw new Error('server did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const body = fs.readFileSync(clip);
    for (const detectEvery of [1, 2, 3]) {
      const start = performance.now();
      const res = await fetch(`${url}/v1/videos?detect_every=${detectEvery}`, { method: 'POST', body, headers: { 'Content-Type': 'video/mp4' } });
      if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${await res.text()}`);
      const { job_id } = await res.json();
      let job;
      for (;;) {
        job = await (await fetch(`${url}/v1/jobs/${job_id}?wait=30s`)).json();
        if (job.status === 'completed' || job.status === 'failed') break;
      }
      if (job.status !== 'completed') throw new Error(`video job failed: ${JSON.stringify(job.error)}`);
      const seconds = (performance.now() - start) / 1000;
      const stages: Record<string, number> = {};
      for (const [stage, ms] of Object.entries(job.result.timings_ms as Record<string, number>)) {
        if (stage === 'decode' || stage === 'encode' || stage === 'blur' || stage.startsWith('detect')) stages[stage] = Math.round(ms);
      }
      const total = Object.values(stages).reduce((a, b) => a + b, 0) || 1;
      rows.push({
        detect_every: detectEvery,
        frames: job.result.video.frames,
        seconds: Math.round(seconds * 100) / 100,
        frames_per_second: Math.round((job.result.video.frames / seconds) * 100) / 100,
        stage_share: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round((v / total) * 1000) / 1000])),
        stage_ms: stages,
      });
    }
    return { clip: `1920x1080, 30 fps, ${frames} frames, AAC audio, from uf_17.jpg`, rows };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(clip), { recursive: true, force: true });
  }
}

export function printVideoBench(result: { clip: string; rows: VideoBenchRow[] }): void {
  console.log(`\nVideo end to end through HTTP (${result.clip}; upload to stored result):`);
  console.table(result.rows.map((r) => ({ detect_every: r.detect_every, frames: r.frames, seconds: r.seconds, fps: r.frames_per_second, ...Object.fromEntries(Object.entries(r.stage_share).map(([k, v]) => [`${k}_share`, v])) })));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(packageRoot, 'dist', 'bench', 'video.js')) {
  videoBench({ quick: process.argv.includes('--quick') })
    .then((result) => {
      printVideoBench(result);
      console.log(JSON.stringify(result, null, 2));
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
