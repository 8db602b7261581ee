import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { darknetDir, facesDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, type TestNode } from '../../harness/server.js';

/** Collects frames in arrival order: JSON text frames parsed, binary frames as Buffers. */
function collect(ws: WebSocket) {
  const frames: Array<any> = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data, isBinary) => {
    frames.push(isBinary ? Buffer.from(data as Buffer) : JSON.parse(data.toString()));
    waiters.splice(0).forEach((w) => w());
  });
  return {
    frames,
    async until(pred: () => boolean, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out; frames so far: ${JSON.stringify(frames.map((f) => (Buffer.isBuffer(f) ? `<${f.length} bytes>` : f.type)))}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)));
  });
}

describe('WS /v1/stream', () => {
  let server: TestNode;
  before(async () => {
    server = await startTestNode();
  });
  after(async () => server.close());

  test('each binary message gets an ack, then a result and the anonymized image', async () => {
    const ws = await open(`${server.url.replace('http', 'ws')}/v1/stream?return_image=true&blur=pixelate`);
    const inbox = collect(ws);
    const images = [readFixture(darknetDir, 'dog.jpg'), readFixture(facesDir, 'uf_3.jpg'), readFixture(facesDir, 'uf_2.jpg')];
    for (const image of images) ws.send(image, { binary: true });
    await inbox.until(() => inbox.frames.filter((f) => f.type === 'result').length === 3 && inbox.frames.filter(Buffer.isBuffer).length === 3);
    const acks = inbox.frames.filter((f) => f.type === 'ack');
    assert.equal(acks.length, 3);
    for (let i = 0; i < inbox.frames.length; i++) {
      const frame = inbox.frames[i];
      if (frame?.type !== 'result') continue;
      assert.equal(frame.status, 'completed');
      assert.ok(acks.some((a) => a.job_id === frame.job_id));
      const image = inbox.frames[i + 1];
      assert.ok(Buffer.isBuffer(image), 'the image follows its result frame');
      assert.equal(image.length, frame.image_bytes);
      assert.equal((await sharp(image).metadata()).width, frame.result.width);
    }
    ws.close();
  });

  test('metadata only unless asked for images; errors come back as error frames', async () => {
    const ws = await open(`${server.url.replace('http', 'ws')}/v1/stream`);
    const inbox = collect(ws);
    ws.send(readFixture(darknetDir, 'dog.jpg'), { binary: true });
    ws.send(Buffer.from('definitely not an image'), { binary: true });
    ws.send('hello');
    await inbox.until(() => inbox.frames.some((f) => f.type === 'result') && inbox.frames.filter((f) => f.type === 'error').length === 2);
    assert.equal(inbox.frames.filter(Buffer.isBuffer).length, 0);
    const result = inbox.frames.find((f) => f.type === 'result');
    assert.ok(result.result.detections.some((d: any) => d.label === 'car'));
    assert.deepEqual(inbox.frames.filter((f) => f.type === 'error').map((f) => f.error.code).sort(), ['UNSUPPORTED_MEDIA_TYPE', 'UNSUPPORTED_MEDIA_TYPE']);
    ws.close();
  });

  test('invalid options refuse the upgrade with 400', async () => {
    await assert.rejects(open(`${server.url.replace('http', 'ws')}/v1/stream?blur=nope`), /400/);
  });
});
