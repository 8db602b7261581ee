import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { detailCorrelation, facesDir, readFixture, sharpness } from '../../harness/fixtures.js';
import { frameAt, makeAudioOnly, makeClip, probe, rotate90, type ClipSpec } from '../../harness/clips.js';
import { startTestNode, uploadFile, waitForJob, type TestNode } from '../../harness/server.js';

interface Box { x: number; y: number; width: number; height: number }

// The five faces in uf_3.jpg (1024×768), labelled by looking at the photo (as in anonymization.test.ts).
const UF3_FACES: Box[] = [
  { x: 186, y: 230, width: 76, height: 103 },
  { x: 301, y: 186, width: 83, height: 102 },
  { x: 399, y: 243, width: 94, height: 115 },
  { x: 548, y: 218, width: 92, height: 115 },
  { x: 732, y: 250, width: 94, height: 121 },
];

// uf_3.jpg panned: a 960×720 window moving 2 px right per frame, scaled to 640×480, 10 fps, 3 s, with a tone.
const PAN: ClipSpec = { photo: path.join(facesDir, 'uf_3.jpg'), width: 640, height: 480, crop: { width: 960, height: 720 }, panPerFrame: 2, fps: 10, frames: 30, audio: true, format: 'mp4', ext: 'mp4' };

/** Where a labelled face of the photo is in frame `n` of the PAN clip. */
function faceInFrame(face: Box, n: number): Box {
  const scale = PAN.width / PAN.crop.width;
  return { x: (face.x - n * PAN.panPerFrame) * scale, y: face.y * scale, width: face.width * scale, height: face.height * scale };
}

function core(box: Box): Box {
  return { x: box.x + box.width * 0.2, y: box.y + box.height * 0.2, width: box.width * 0.6, height: box.height * 0.6 };
}

async function postVideo(url: string, bytes: Buffer, query = '', contentType = 'video/mp4'): Promise<Response> {
  return fetch(`${url}/v1/videos${query}`, { method: 'POST', body: new Uint8Array(bytes), headers: { 'Content-Type': contentType } });
}

async function resultBytes(url: string, jobId: string): Promise<{ bytes: Buffer; type: string | null }> {
  const res = await fetch(`${url}/v1/jobs/${jobId}/result`);
  assert.equal(res.status, 200);
  return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

describe('videos: anonymized clip out, faithful to the input', () => {
  let server: TestNode;
  let clip: string;
  before(async () => {
    clip = makeClip(PAN);
    server = await startTestNode();
  });
  after(async () => server.close());

  test('same size, frame count, duration and audio; every labelled face blurred in sampled frames; tracks in the metadata', async () => {
    const original = fs.readFileSync(clip);
    const res = await postVideo(server.url, original);
    assert.equal(res.status, 202);
    const accepted = await res.json();
    // Polled while it runs: the job says it is a video and how far it is.
    let seen: { frames_done: number; frames_total: number } | undefined;
    for (let i = 0; i < 2000 && !seen; i++) {
      const job = await (await fetch(`${server.url}/v1/jobs/${accepted.job_id}`)).json();
      assert.equal(job.kind, 'video');
      if (job.status === 'processing' && job.progress) seen = job.progress;
      if (job.status === 'completed' || job.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(seen, 'progress was visible while the job ran');
    assert.equal(seen.frames_total, PAN.frames);
    const job = await waitForJob(server.url, accepted.job_id, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.deepEqual(job.progress, { frames_done: PAN.frames, frames_total: PAN.frames });
    assert.equal(job.result.format, 'mp4');
    assert.equal(job.result.video.frames, PAN.frames);

    const { bytes, type } = await resultBytes(server.url, job.job_id);
    assert.equal(type, 'video/mp4');
    const out = probe(bytes);
    const video = out.streams.find((s) => s.codec_type === 'video')!;
    assert.equal(video.codec_name, 'h264');
    assert.equal(video.width, PAN.width);
    assert.equal(video.height, PAN.height);
    assert.equal(Number(video.nb_read_frames), PAN.frames);
    assert.equal(video.avg_frame_rate, '10/1');
    assert.ok(Math.abs(Number(out.format.duration) - PAN.frames / PAN.fps) < 0.15, `duration ${out.format.duration}`);
    const audio = out.streams.filter((s) => s.codec_type === 'audio');
    assert.equal(audio.length, 1);
    assert.equal(audio[0].codec_name, 'aac');

    for (const n of [0, 14, 29]) {
      const before = frameAt(clip, n);
      const after = frameAt(bytes, n);
      for (const face of UF3_FACES) {
        const box = core(faceInFrame(face, n));
        const correlation = await detailCorrelation(before, after, box);
        assert.ok(correlation < 0.3, `frame ${n}: the face at ${JSON.stringify(face)} keeps detail (correlation ${correlation.toFixed(2)})`);
        const s0 = await sharpness(before, box);
        const s1 = await sharpness(after, box);
        assert.ok(s1 < s0 * 0.3, `frame ${n}: sharpness in the face fell only from ${s0.toFixed(0)} to ${s1.toFixed(0)}`);
      }
      // Away from the faces the picture is the input's (only re-encoded): the floor under the people.
      const floor = { x: 40, y: 420, width: 200, height: 50 };
      assert.ok((await detailCorrelation(before, after, floor)) > 0.5, `frame ${n}: the floor lost its detail`);
    }

    const metadata = JSON.parse(fs.readFileSync(path.join(server.dataDir, job.result.metadata_key), 'utf8'));
    const faceTracks = metadata.tracks.filter((t: any) => t.kind === 'face');
    assert.ok(faceTracks.length >= UF3_FACES.length, `${faceTracks.length} face tracks`);
    for (const t of faceTracks) {
      assert.ok(t.first_frame <= t.last_frame);
      assert.ok(t.boxes.length > 0 && t.boxes.every((b: any) => b.frame >= t.first_frame && b.frame <= t.last_frame));
    }
    // The five faces are in view the whole clip: each is one track from the first frame to the last.
    const whole = faceTracks.filter((t: any) => t.first_frame === 0 && t.last_frame === PAN.frames - 1);
    assert.ok(whole.length >= UF3_FACES.length, `tracks spanning the clip: ${whole.length}`);
  });

  test('audio=drop leaves no audio; detect_every=3 still blurs every frame; metadata stripped by default', async () => {
    const res = await postVideo(server.url, fs.readFileSync(clip), '?audio=drop&detect_every=3');
    assert.equal(res.status, 202);
    const job = await waitForJob(server.url, (await res.json()).job_id, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.options.video.detectEvery, 3);
    const { bytes } = await resultBytes(server.url, job.job_id);
    const out = probe(bytes);
    assert.equal(out.streams.filter((s) => s.codec_type === 'audio').length, 0);
    assert.equal(Number(out.streams[0].nb_read_frames), PAN.frames);
    // Frames between detection passes (1, 2, 28) are blurred from the tracker's carried boxes.
    for (const n of [1, 2, 28]) {
      for (const face of UF3_FACES) {
        const box = core(faceInFrame(face, n));
        const correlation = await detailCorrelation(frameAt(clip, n), frameAt(bytes, n), box);
        assert.ok(correlation < 0.3, `frame ${n}: face ${JSON.stringify(face)} correlation ${correlation.toFixed(2)}`);
      }
    }
  });

  test('metadata: GPS-like tags and data streams stripped by default; metadata=safe keeps the camera and date only', async () => {
    const tagged = makeClip({ ...PAN, frames: 10, gpsSubtitles: true, extra: ['-metadata', 'location=+52.5200+013.4050/', '-metadata', 'make=Dashcam Inc', '-metadata', 'creation_time=2026-01-02T03:04:05Z', '-movflags', 'use_metadata_tags'] });
    assert.equal(probe(tagged).format.tags?.make, 'Dashcam Inc');
    assert.equal(probe(tagged).streams.filter((s) => s.codec_type === 'subtitle').length, 1);
    for (const [query, expectMake] of [['', false], ['?metadata=safe', true]] as const) {
      const res = await postVideo(server.url, fs.readFileSync(tagged), query);
      const job = await waitForJob(server.url, (await res.json()).job_id, 120_000);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      const out = probe((await resultBytes(server.url, job.job_id)).bytes);
      assert.deepEqual(out.streams.map((s) => s.codec_type).sort(), ['audio', 'video'], 'the GPS subtitle track never reaches the output');
      const tags = out.format.tags ?? {};
      assert.equal(tags.location, undefined, `location kept: ${JSON.stringify(tags)}`);
      assert.equal(tags.make === 'Dashcam Inc', expectMake, JSON.stringify(tags));
      assert.equal(tags.creation_time !== undefined, expectMake, JSON.stringify(tags));
    }
  });

  for (const [format, ext, type] of [['matroska', 'mkv', 'video/x-matroska'], ['mpegts', 'ts', 'video/mp2t']] as const) {
    test(`${ext} in (recognised by its bytes, multipart), MP4 out with every frame`, async () => {
      const file = makeClip({ ...PAN, frames: 12, format, ext });
      const res = await uploadFile(server.url, fs.readFileSync(file), `clip.bin`, '', '/v1/videos');
      assert.equal(res.status, 202, await res.clone().text());
      const job = await waitForJob(server.url, (await res.json()).job_id, 120_000);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.equal(job.input.format, ext);
      assert.ok(type.startsWith('video/'));
      const out = probe((await resultBytes(server.url, job.job_id)).bytes);
      assert.equal(Number(out.streams.find((s) => s.codec_type === 'video')!.nb_read_frames), 12);
    });
  }

  test('format=mkv writes Matroska', async () => {
    const res = await postVideo(server.url, fs.readFileSync(makeClip({ ...PAN, frames: 6 })), '?format=mkv');
    const job = await waitForJob(server.url, (await res.json()).job_id, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    const { bytes, type } = await resultBytes(server.url, job.job_id);
    assert.equal(type, 'video/x-matroska');
    assert.match(probe(bytes).format.format_name, /matroska/);
  });

  test('a phone clip with rotation metadata comes out upright at the displayed size', async () => {
    const rotated = makeClip({ ...PAN, frames: 6, audio: false });
    rotate90(rotated);
    const res = await postVideo(server.url, fs.readFileSync(rotated));
    const job = await waitForJob(server.url, (await res.json()).job_id, 120_000);
    assert.equal(job.status, 'completed', JSON.stringify(job.error));
    assert.equal(job.result.width, PAN.height);
    assert.equal(job.result.height, PAN.width);
    const video = probe((await resultBytes(server.url, job.job_id)).bytes).streams.find((s) => s.codec_type === 'video')!;
    assert.equal(video.width, PAN.height);
    assert.equal(video.height, PAN.width);
  });

  test('bad input: 415 for an image or noise, 422 with a code for audio only, a truncated file, too many streams; 400 for bad options', async () => {
    const jpeg = await postVideo(server.url, readFixture(facesDir, 'uf_3.jpg'), '', 'image/jpeg');
    assert.equal(jpeg.status, 415);
    assert.equal((await jpeg.json()).error.code, 'UNSUPPORTED_MEDIA_TYPE');
    const noise = await postVideo(server.url, Buffer.alloc(4096, 7));
    assert.equal(noise.status, 415);
    const audioOnly = await postVideo(server.url, fs.readFileSync(makeAudioOnly()));
    assert.equal(audioOnly.status, 422);
    assert.equal((await audioOnly.json()).error.code, 'NO_VIDEO_STREAM');
    // MP4 without faststart keeps its index at the end: cut it off and nothing can be read.
    const whole = fs.readFileSync(makeClip({ ...PAN, frames: 10 }));
    const truncated = await postVideo(server.url, whole.subarray(0, Math.floor(whole.length / 2)));
    assert.equal(truncated.status, 422);
    assert.equal((await truncated.json()).error.code, 'UNDECODABLE_VIDEO');
    // 40 audio streams beside the video: a crafted file, refused before any decoder opens.
    const streams = makeClip({ ...PAN, frames: 5, audio: true, extra: ['-map', '0:v', ...Array.from({ length: 40 }, () => ['-map', '1:a']).flat()] });
    const many = await postVideo(server.url, fs.readFileSync(streams));
    assert.equal(many.status, 422);
    assert.equal((await many.json()).error.code, 'TOO_MANY_STREAMS');
    for (const query of ['?detect_every=0', '?detect_every=x', '?audio=mute', '?format=avi', '?quality=80', '?detect=eyes']) {
      const res = await postVideo(server.url, whole, query);
      assert.equal(res.status, 400, query);
      assert.equal((await res.json()).error.code, 'INVALID_OPTION', query);
    }
  });
});

describe('video limits and a node without ffmpeg', () => {
  test('MAX_VIDEO_SECONDS, MAX_VIDEO_PIXELS and MAX_VIDEO_BYTES refuse at upload with their codes', async () => {
    const server = await startTestNode({}, 'serve', { MAX_VIDEO_SECONDS: '2', MAX_VIDEO_PIXELS: '100000', MAX_VIDEO_BYTES: '200000' });
    try {
      const long = makeClip({ ...PAN, width: 160, height: 120, frames: 30 });
      const res = await postVideo(server.url, fs.readFileSync(long));
      assert.equal(res.status, 422);
      assert.equal((await res.json()).error.code, 'VIDEO_TOO_LONG');
      const big = makeClip({ ...PAN, width: 480, height: 360, frames: 5 });
      const res2 = await postVideo(server.url, fs.readFileSync(big));
      assert.equal(res2.status, 422);
      assert.equal((await res2.json()).error.code, 'VIDEO_TOO_LARGE');
      const res3 = await postVideo(server.url, Buffer.concat([fs.readFileSync(big), Buffer.alloc(200_000)]));
      assert.equal(res3.status, 413);
      assert.equal((await res3.json()).error.code, 'PAYLOAD_TOO_LARGE');
    } finally {
      await server.close();
    }
  });

  test('FFMPEG_PATH naming a missing binary: videos get 503 VIDEO_UNAVAILABLE, images still work', async () => {
    const server = await startTestNode({}, 'serve', { FFMPEG_PATH: '/nonexistent/ffmpeg' });
    try {
      const res = await postVideo(server.url, Buffer.alloc(1000));
      assert.equal(res.status, 503);
      const body = await res.json();
      assert.equal(body.error.code, 'VIDEO_UNAVAILABLE');
      assert.match(body.error.message, /FFMPEG_PATH/);
      const health = await (await fetch(`${server.url}/v1/health`)).json();
      assert.equal(health.video.available, false);
      assert.match(health.video.detail, /\/nonexistent\/ffmpeg/);
      const image = await uploadFile(server.url, readFixture(facesDir, 'uf_3.jpg'), 'uf_3.jpg');
      assert.equal(image.status, 202);
      const job = await waitForJob(server.url, (await image.json()).job_id);
      assert.equal(job.status, 'completed');
    } finally {
      await server.close();
    }
  });
});
