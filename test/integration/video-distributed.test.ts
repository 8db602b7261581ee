import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeClip, probe } from '../../harness/clips.js';
import { startCluster, sleep, type Cluster } from '../../harness/cluster.js';
import { facesDir } from '../../harness/fixtures.js';

const spec = { photo: path.join(facesDir, 'uf_3.jpg'), width: 640, height: 480, crop: { width: 960, height: 720 }, panPerFrame: 2, fps: 10, frames: 60, audio: true, format: 'mp4', ext: 'mp4' };

describe('videos over Redis: an API node and workers', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ workers: 1, env: { STALLED_MS: '3000' } });
  });
  after(async () => cluster?.close());

  test('progress is seen on the API node; a worker killed mid-video leaves the job to another, which finishes it', { timeout: 240_000 }, async () => {
    const res = await fetch(`${cluster.api.url}/v1/videos`, { method: 'POST', body: new Uint8Array(fs.readFileSync(makeClip(spec))), headers: { 'Content-Type': 'video/mp4' } });
    assert.equal(res.status, 202, await res.clone().text());
    const { job_id: id } = await res.json();
    let job: any;
    for (let i = 0; ; i++) {
      job = await (await fetch(`${cluster.api.url}/v1/jobs/${id}`)).json();
      if (job.progress?.frames_done > 0) break;
      assert.ok(i < 1200, `no progress seen: ${JSON.stringify(job)}\n${cluster.logs()}`);
      await sleep(50);
    }
    assert.equal(job.kind, 'video');
    assert.equal(job.status, 'processing');
    assert.equal(job.progress.frames_total, spec.frames);
    // The worker dies mid-video; a new one reclaims the job after STALLED_MS and runs it from the start.
    const first = cluster.workers[0];
    first.child.kill('SIGKILL');
    await first.exited;
    await cluster.startWorker();
    for (let i = 0; ; i++) {
      job = await (await fetch(`${cluster.api.url}/v1/jobs/${id}?wait=5s`)).json();
      if (job.status === 'completed' || job.status === 'failed') break;
      assert.ok(i < 60, `still ${job.status}\n${cluster.logs()}`);
    }
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.attempts, 2);
    assert.deepEqual(job.progress, { frames_done: spec.frames, frames_total: spec.frames });
    const out = await fetch(`${cluster.api.url}/v1/jobs/${id}/result`);
    assert.equal(out.headers.get('content-type'), 'video/mp4');
    const streams = probe(Buffer.from(await out.arrayBuffer())).streams;
    assert.equal(Number(streams.find((s) => s.codec_type === 'video')!.nb_read_frames), spec.frames);
    assert.equal(streams.filter((s) => s.codec_type === 'audio').length, 1);
  });
});
