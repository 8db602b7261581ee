import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { DecodedFrameTimes } from '../../src/video/frame-times.js';
import { matroskaFrameHeader, matroskaHeader, tickNsFor } from '../../src/video/matroska-writer.js';
import { OutputClock } from '../../src/video/output-clock.js';

const WIDTH = 33;
const HEIGHT = 7;
const FRAME_BYTES = WIDTH * HEIGHT * 3;

/** A frame whose every byte depends on the frame and the position, so a swapped or shifted frame shows. */
function pattern(frame: number): Buffer {
  const bytes = Buffer.alloc(FRAME_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + frame * 31) % 256;
  return bytes;
}

function writeFile(ticks: number[], tickNs: number): string {
  const parts = [matroskaHeader({ width: WIDTH, height: HEIGHT, tickNs, frameDurationNs: 40e6 })];
  ticks.forEach((t, i) => parts.push(matroskaFrameHeader(t, FRAME_BYTES), pattern(i)));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pixveil-mkv-')), 'frames.mkv');
  fs.writeFileSync(file, Buffer.concat(parts));
  return file;
}

describe('the Matroska stream the encoder reads', () => {
  test('ffmpeg reads back raw rgb24 frames at their own timestamps, every pixel as written', () => {
    // Irregular gaps, a jump of minutes (a 5-byte cluster timestamp) and a first frame at 0.
    const ticks = [0, 40_000, 140_000, 141_000, 210_000, 7_654_321, 300_000_000_123];
    const file = writeFile(ticks, 1000);
    const stream = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' })).streams[0];
    assert.equal(stream.codec_name, 'rawvideo');
    assert.equal(stream.pix_fmt, 'rgb24');
    assert.deepEqual([stream.width, stream.height], [WIDTH, HEIGHT]);
    assert.equal(stream.time_base, '1/1000000');
    assert.equal(stream.r_frame_rate, '25/1', 'the default duration gives the rate');
    const pts = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim().split('\n').map(Number);
    assert.deepEqual(pts, ticks);
    const decoded = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 });
    assert.equal(decoded.length, FRAME_BYTES * ticks.length);
    for (let i = 0; i < ticks.length; i++) assert.ok(decoded.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES).equals(pattern(i)), `frame ${i} pixels`);
  });

  test('an exact tick for a time base that has one (1/1000 → 1 ms as ffprobe reads it), 1 µs otherwise', () => {
    assert.equal(tickNsFor(1, 1000), 1_000_000);
    assert.equal(tickNsFor(1, 12800), 78_125);
    assert.equal(tickNsFor(1001, 30000), 1000);
    assert.equal(tickNsFor(1, 90000), 1000);
    const file = writeFile([0, 33, 100], tickNsFor(1, 1000));
    const stream = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_entries', 'packet=pts_time', '-of', 'json', file], { encoding: 'utf8' }));
    assert.equal(stream.streams[0].time_base, '1/1000');
    assert.deepEqual(stream.packets.map((p: { pts_time: string }) => Number(p.pts_time)), [0, 0.033, 0.1]);
  });
});

describe('output timestamps', () => {
  test('counted from the first frame; every 1/90000 time lands on its own microsecond; never going back', () => {
    const clock = new OutputClock(tickNsFor(1, 90000), 1 / 30);
    const pts = [126000, 129003, 135000, 135001];
    assert.deepEqual(pts.map((p) => clock.ticksFor(p / 90000)), [0, 33_367, 100_000, 100_011]);
    assert.equal(clock.ticksFor(1.0), 100_012, 'a time before the last frame goes one tick after it');
    assert.equal(clock.ticksFor(undefined), 100_012 + 33_333, 'a frame without a time comes one average frame later');
    assert.equal(clock.ticksFor(Number.NaN), 100_012 + 2 * 33_333);
    assert.ok(Math.abs(clock.durationSeconds() - (0.166678 + 1 / 30)) < 1e-9);
  });
});

describe('the decoder\'s frame-time listing', () => {
  test('pts in its time base, lines split anywhere across chunks; a frame waits for its line; NOPTS and a listing cut short', async () => {
    const listing = new PassThrough();
    const times = new DecodedFrameTimes(listing);
    const first = times.secondsAt(0);
    listing.write('#software: Lavf59.27.100\n#tb 0: 1/90000\n#media_type 0: video\n0,     126000,     126000,     3003,      472, 0xd70a16c6\n0,     12');
    assert.equal(await first, 1.4);
    const second = times.secondsAt(1);
    listing.write('9003,     129003,     3003,      472, 0x000616f8\n0, -9223372036854775808, -9223372036854775808, 0, 472, 0x0\n');
    assert.equal(await second, 129003 / 90000);
    assert.ok(Number.isNaN(await times.secondsAt(2)), 'a frame without a pts');
    const missing = times.secondsAt(3);
    listing.end();
    assert.equal(await missing, undefined);
  });
});
