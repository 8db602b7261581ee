import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sniffVideoType, describeNonVideo } from '../../src/ingest/sniff.js';
import { parseVideoJobOptions } from '../../src/ingest/video-options.js';
import { checkVideoLimits, MAX_STREAMS } from '../../src/video/limits.js';
import { describe as describeProbe } from '../../src/video/probe.js';
import { encodeArgs } from '../../src/video/ffmpeg-args.js';
import { isPixveilError } from '../../src/errors.js';

const ftyp = (brand: string) => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from(`ftyp${brand}`), Buffer.alloc(64)]);

describe('video containers are recognised by their bytes', () => {
  test('MP4, MOV, Matroska, WebM and MPEG-TS; HEIF/AVIF, JPEG and noise are not videos', () => {
    assert.equal(sniffVideoType(ftyp('isom')), 'mp4');
    assert.equal(sniffVideoType(ftyp('mp42')), 'mp4');
    assert.equal(sniffVideoType(ftyp('qt  ')), 'mov');
    assert.equal(sniffVideoType(Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('wide'), Buffer.alloc(32)])), 'mov');
    const ebml = (doctype: string) => Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88]), Buffer.from(doctype), Buffer.alloc(32)]);
    assert.equal(sniffVideoType(ebml('matroska')), 'mkv');
    assert.equal(sniffVideoType(ebml('webm')), 'webm');
    const ts = Buffer.alloc(188 * 4);
    for (let i = 0; i < 4; i++) ts[i * 188] = 0x47;
    assert.equal(sniffVideoType(ts), 'ts');
    ts[376] = 0;
    assert.equal(sniffVideoType(ts), undefined, 'one sync byte out of place is not MPEG-TS');
    assert.equal(sniffVideoType(ftyp('heic')), undefined);
    assert.equal(sniffVideoType(ftyp('avif')), undefined);
    assert.equal(sniffVideoType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Buffer.alloc(20)])), undefined);
    assert.match(describeNonVideo(Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Buffer.alloc(20)])), /JPG image .*POST \/v1\/images/);
    assert.equal(sniffVideoType(Buffer.alloc(8)), undefined);
  });
});

const options = { available: { faces: true, plates: true, objects: true }, objectClasses: ['person', 'car'], defaultThresholds: { face: 0.6, plate: 0.3, object: 0.35 } };

describe('video options', () => {
  test('defaults, the video-only parameters, and the image options applied to each frame', () => {
    const plain = parseVideoJobOptions(new URLSearchParams(''), options);
    assert.deepEqual(plain.video, { detectEvery: 1, audio: 'keep', container: 'mp4' });
    const set = parseVideoJobOptions(new URLSearchParams('detect_every=3&audio=drop&format=mkv&blur=pixelate&detect=faces'), options);
    assert.deepEqual(set.video, { detectEvery: 3, audio: 'drop', container: 'mkv' });
    assert.equal(set.blur, 'pixelate');
    assert.deepEqual(set.detect, { faces: true, plates: false, objects: false });
  });

  for (const query of ['detect_every=0', 'detect_every=31', 'detect_every=1.5', 'detect_every=', 'audio=mute', 'format=webm', 'format=jpeg', 'quality=80', 'bogus=1']) {
    test(`refused with INVALID_OPTION: ${query}`, () => {
      assert.throws(() => parseVideoJobOptions(new URLSearchParams(query), options), (err: unknown) => isPixveilError(err) && err.code === 'INVALID_OPTION' && /^Expected /.test(err.message));
    });
  }
});

const probeOf = (over: Record<string, unknown> = {}, format: Record<string, unknown> = {}) => ({
  streams: [
    { index: 0, codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30/1', r_frame_rate: '30/1', nb_read_packets: '300', duration: '10.0', start_time: '0.0', ...over },
    { index: 1, codec_type: 'audio', codec_name: 'aac', nb_read_packets: '400' },
    { index: 2, codec_type: 'subtitle', codec_name: 'mov_text' },
  ],
  format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', duration: '10.0', start_time: '0.0', nb_streams: 3, tags: { location: '+52+013/', make: 'X' }, ...format },
});

describe('what ffprobe says, and the limits', () => {
  test('size, rate, frames, rotation and audio streams are read; rotation swaps the displayed size', () => {
    const info = describeProbe(probeOf());
    assert.equal(info.width, 1920);
    assert.equal(info.frames, 300);
    assert.equal(info.fps, 30);
    assert.deepEqual(info.audio, [{ index: 1, codec: 'aac' }]);
    const phone = describeProbe(probeOf({ side_data_list: [{ rotation: -90 }] }));
    assert.equal(phone.rotation, 270);
    assert.deepEqual([phone.width, phone.height], [1080, 1920]);
  });

  test('audio only, cover art only and zero frames are NO_VIDEO_STREAM', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isPixveilError(err) ? err.code : 'not a PixveilError';
      }
      return 'no error';
    };
    assert.equal(code(() => describeProbe({ streams: [{ index: 0, codec_type: 'audio' }], format: {} })), 'NO_VIDEO_STREAM');
    assert.equal(code(() => describeProbe({ streams: [{ index: 0, codec_type: 'audio' }, { index: 1, codec_type: 'video', width: 500, height: 500, nb_read_packets: '1', disposition: { attached_pic: 1 } }], format: {} })), 'NO_VIDEO_STREAM');
    assert.equal(code(() => describeProbe(probeOf({ nb_read_packets: '0' }))), 'NO_VIDEO_STREAM');
    const limits = { maxSeconds: 600, maxPixels: 3840 * 2160 };
    assert.equal(code(() => checkVideoLimits(describeProbe(probeOf({}, { duration: '36000' })), limits)), 'VIDEO_TOO_LONG', 'a declared ten hours');
    assert.equal(code(() => checkVideoLimits(describeProbe(probeOf({ nb_read_packets: '30000' })), limits)), 'VIDEO_TOO_LONG', 'more frames than the duration says');
    assert.equal(code(() => checkVideoLimits(describeProbe(probeOf({ width: 7680, height: 4320 })), limits)), 'VIDEO_TOO_LARGE', '8K');
    assert.equal(code(() => checkVideoLimits(describeProbe(probeOf({}, { nb_streams: MAX_STREAMS + 1 })), limits)), 'TOO_MANY_STREAMS');
    assert.equal(code(() => checkVideoLimits(describeProbe(probeOf()), limits)), 'no error');
  });

  test('the encoder maps only video and audio, strips tags by default and keeps no location under metadata=safe', () => {
    const info = describeProbe(probeOf());
    const strip = encodeArgs('in.mp4', 'out.mp4', info, { video: { detectEvery: 1, audio: 'keep', container: 'mp4' }, metadata: 'strip' });
    assert.deepEqual(strip.filter((a, i) => strip[i - 1] === '-map'), ['0:v:0', '1:1']);
    assert.ok(strip.includes('-map_metadata') && !strip.includes('-metadata'));
    const safe = encodeArgs('in.mp4', 'out.mp4', info, { video: { detectEvery: 1, audio: 'keep', container: 'mp4' }, metadata: 'safe' });
    assert.deepEqual(safe.filter((a, i) => safe[i - 1] === '-metadata'), ['make=X']);
    const drop = encodeArgs('in.mp4', 'out.mp4', info, { video: { detectEvery: 1, audio: 'drop', container: 'mp4' }, metadata: 'strip' });
    assert.deepEqual(drop.filter((a, i) => drop[i - 1] === '-map'), ['0:v:0']);
    const pcm = describeProbe({ ...probeOf(), streams: [probeOf().streams[0], { index: 1, codec_type: 'audio', codec_name: 'pcm_s16le' }] });
    const reencoded = encodeArgs('in.mov', 'out.mp4', pcm, { video: { detectEvery: 1, audio: 'keep', container: 'mp4' }, metadata: 'strip' });
    assert.equal(reencoded[reencoded.indexOf('-c:a:0') + 1], 'aac', 'PCM cannot go into MP4 as it is');
  });
});
