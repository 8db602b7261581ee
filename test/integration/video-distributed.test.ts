import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeClip, probe } from '../../harness/clips.js';
import { listData, startCluster, sleep, type Cluster } from '../../harness/cluster.js';
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

describe('a long video over Redis: its segments run as jobs on several worker processes', () => {
  // 6 s in 2 s segments: three segment jobs for two workers.
  const long = { ...spec, width: 320, height: 240, crop: { width: 480, height: 360 } };
  let cluster: Cluster;
  before(async () => {
    // One task per thread: a worker feeds the pool two jobs at most, so the video's worker, which holds
    // the video while it queues the segments, can take one of them before it waits and the other worker
    // gets the rest; and a worker that slot-bound still runs its own video's segments (no deadlock).
    cluster = await startCluster({ workers: 2, env: { VIDEO_SEGMENT_SECONDS: '2', STALLED_MS: '5000', POOL_TASKS_PER_THREAD: '1' } });
  });
  after(async () => cluster?.close());

  const upload = async () => {
    const res = await fetch(`${cluster.api.url}/v1/videos`, { method: 'POST', body: new Uint8Array(fs.readFileSync(makeClip(long))), headers: { 'Content-Type': 'video/mp4' } });
    assert.equal(res.status, 202, await res.clone().text());
    return (await res.json()).job_id as string;
  };
  const getJob = async (id: string) => {
    const res = await fetch(`${cluster.api.url}/v1/jobs/${id}`);
    return { status: res.status, body: (await res.json()) as any };
  };
  /** Object keys of one job or its segment jobs left in DATA_DIR. */
  const objectsOf = (id: string) => ['original', 'processed', 'metadata', 'segments'].flatMap((dir) => listData(cluster.dataDir, dir).filter((name) => name.startsWith(id)).map((name) => `${dir}/${name}`));

  test('both workers run segments of one video; the joined output has every frame and the audio; the segment jobs are gone after', { timeout: 300_000 }, async () => {
    const id = await upload();
    let child: any;
    for (let i = 0; ; i++) {
      child = await getJob(`${id}-s0`);
      if (child.status === 200) break;
      assert.ok(i < 1200, `no segment job seen\n${cluster.logs()}`);
      await sleep(50);
    }
    assert.deepEqual(child.body.segment_of, { job_id: id, index: 0 }, 'a segment job names its video');
    assert.equal((await getJob(id)).body.segment_of, null);
    let job: any;
    for (let i = 0; ; i++) {
      job = (await getJob(id)).body;
      if (job.status === 'completed' || job.status === 'failed') break;
      assert.ok(i < 2400, `still ${job.status}\n${cluster.logs()}`);
      await sleep(100);
    }
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual(job.progress, { frames_done: long.frames, frames_total: long.frames });
    assert.equal(job.result.video.frames, long.frames);
    const metadata = JSON.parse(fs.readFileSync(path.join(cluster.dataDir, job.result.metadata_key), 'utf8'));
    assert.deepEqual(metadata.segments.map((s: any) => s.job_id), [0, 1, 2].map((n) => `${id}-s${n}`));
    const pids = new Set(metadata.segments.map((s: any) => Number(String(s.node).split('-').pop())));
    for (const pid of pids) assert.ok(cluster.workers.some((w) => w.pid === pid), `segment run by worker pid ${pid}`);
    assert.equal(pids.size, 2, `both workers ran segments: ${JSON.stringify(metadata.segments)}\n${cluster.logs()}`);
    const out = await fetch(`${cluster.api.url}/v1/jobs/${id}/result`);
    const streams = probe(Buffer.from(await out.arrayBuffer())).streams;
    assert.equal(Number(streams.find((s) => s.codec_type === 'video')!.nb_read_frames), long.frames);
    assert.equal(streams.filter((s) => s.codec_type === 'audio').length, 1);
    for (const n of [0, 1, 2]) assert.equal((await getJob(`${id}-s${n}`)).status, 404);
    // The video's original stays (KEEP_ORIGINALS defaults to true); its segments' pieces do not.
    assert.deepEqual(objectsOf(id).sort(), [`metadata/${id}.1.json`, `original/${id}.mp4`, `processed/${id}.1.mp4`], 'no piece, segment output or frame list is left');
  });

  test('DELETE of a video while its segments run erases its segment jobs and every object', { timeout: 300_000 }, async () => {
    const id = await upload();
    for (let i = 0; ; i++) {
      const job = (await getJob(id)).body;
      if (job.progress?.frames_done > 0) break;
      assert.ok(i < 2400, `no progress seen: ${JSON.stringify(job)}\n${cluster.logs()}`);
      await sleep(50);
    }
    assert.equal((await getJob(`${id}-s2`)).status, 200, 'every segment job is queued');
    assert.equal((await fetch(`${cluster.api.url}/v1/jobs/${id}`, { method: 'DELETE' })).status, 204);
    for (const n of [0, 1, 2]) assert.equal((await getJob(`${id}-s${n}`)).status, 404, `segment job ${n} is erased with its video`);
    // Workers running a segment stop at their next progress report and delete what they stored.
    for (let i = 0; objectsOf(id).length > 0; i++) {
      assert.ok(i < 200, `objects left: ${objectsOf(id).join(', ')}`);
      await sleep(100);
    }
    await sleep(2000);
    assert.deepEqual(objectsOf(id), [], 'nothing was stored again after');
  });
});
