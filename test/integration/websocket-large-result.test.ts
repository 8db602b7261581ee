import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { startTestNode, type TestNode } from '../../harness/server.js';

const MiB = 1024 * 1024;

describe('WebSocket results larger than WS_MAX_BACKLOG_BYTES reach a client that reads them', () => {
  let server: TestNode;

  before(async () => {
    // The defaults: WS_MAX_BACKLOG_BYTES 16 MiB, MAX_UPLOAD_BYTES 50 MB.
    server = await startTestNode({}, 'serve');
  });
  after(async () => server.close());

  test('an 18 MB PNG comes back whole over return_image=true (issue 21: close 1013 before)', async () => {
    // Noise does not compress: the PNG, in and out, is about 2600 x 2400 x 3 bytes.
    const width = 2600;
    const height = 2400;
    const png = await sharp(crypto.randomBytes(width * height * 3), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
    assert.ok(png.length > 17 * MiB, `input is ${png.length} bytes`);
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/v1/stream?return_image=true&detect=faces`, { maxPayload: 64 * MiB });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const frames: Array<string | Buffer> = [];
    let closeCode: number | undefined;
    const done = new Promise<void>((resolve) => {
      ws.on('message', (data, isBinary) => {
        frames.push(isBinary ? (data as Buffer) : data.toString());
        if (isBinary) resolve();
      });
      ws.once('close', (code) => {
        closeCode = code;
        resolve();
      });
    });
    ws.send(png);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 120_000)))]);
    clearTimeout(timer);
    ws.close();
    assert.equal(closeCode, undefined, `closed with ${closeCode}: ${JSON.stringify(frames.filter((f) => typeof f === 'string'))}`);
    const [ack, result, image] = frames;
    assert.equal(JSON.parse(ack as string).type, 'ack');
    const announced = JSON.parse(result as string);
    assert.equal(announced.status, 'completed', JSON.stringify(announced));
    assert.ok(Buffer.isBuffer(image));
    assert.ok(announced.image_bytes > 16 * MiB, `result of ${announced.image_bytes} bytes`);
    assert.equal(image.length, announced.image_bytes);
    const meta = await sharp(image).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', width, height]);
  });
});
