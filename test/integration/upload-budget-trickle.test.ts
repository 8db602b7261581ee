import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { darknetDir, readFixture } from '../../harness/fixtures.js';
import { startTestNode, type TestNode } from '../../harness/server.js';

const MiB = 1024 * 1024;

/** A socket that declares a 50 MB upload and sends 5 KB every 250 ms (issue 21, finding 1). */
function trickle(port: number): { stop(): void } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${50 * MiB}\r\n\r\n`);
  const timer = setInterval(() => socket.write(Buffer.alloc(5 * 1024, 0xff)), 250);
  return {
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

describe('the upload budget charges bytes as they arrive', () => {
  let server: TestNode;

  before(async () => {
    server = await startTestNode({}, 'serve', { UPLOAD_BUDGET_BYTES: String(100 * MiB) });
  });
  after(async () => server.close());

  test('two sockets that declare 50 MB and trickle do not lock other clients out: a normal upload gets 202', async () => {
    const sockets = [trickle(server.node.port!), trickle(server.node.port!)];
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const photo = readFixture(darknetDir, 'dog.jpg');
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.url}/v1/images`, { method: 'POST', body: new Uint8Array(photo), headers: { 'content-type': 'image/jpeg' } });
        const body = await res.json();
        assert.equal(res.status, 202, JSON.stringify(body));
      }
    } finally {
      for (const s of sockets) s.stop();
    }
  });
});
