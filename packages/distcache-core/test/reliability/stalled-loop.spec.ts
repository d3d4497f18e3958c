// A node whose event loop stalls (a long synchronous handler, GC) past a deadline: timers run
// before a loop turn's poll phase, so a deadline decided in the timer failed work whose answer had
// been waiting in its socket since the stall. The answers here come from a server on a worker
// thread, whose loop our stall does not stop.
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistCacheEngine } from '../../src';
import { waitFor } from '../../src/util/abort';
import { SourceCall } from '../../src/datasource/source-call';
import { systemClock } from '../../src/util/clock';

let worker: Worker;
let port = 0;

beforeAll(async () => {
  worker = new Worker(
    `const net = require('node:net');
     const { parentPort } = require('node:worker_threads');
     const server = net.createServer((c) => {
       c.on('error', () => {});
       c.on('data', (d) => setTimeout(() => c.write(d), 20));
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  port = await new Promise<number>((resolve) => worker.once('message', resolve));
});

afterAll(async () => {
  await worker.terminate();
});

/** Requests written so far (see {@link stallAfterSending}). */
let written = 0;

/** One round trip to the worker's server (answered 20 ms after the request). */
function roundTrip(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write('x', () => (written += 1)));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once('error', reject);
    signal?.addEventListener('abort', () => {
      socket.destroy();
      reject(signal.reason as Error);
    });
  });
}

/**
 * Stalls the loop for `ms` from the check phase, once the request is on the wire: the next turn
 * starts with its timers (from a timer callback the loop's time is stale and the poll would come
 * first, which would not test anything).
 */
async function stallAfterSending(ms: number): Promise<void> {
  // Until the request is written: under load, connecting can take longer than any fixed wait.
  const before = written;
  while (written === before) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('a loop stalled past a deadline', () => {
  it('waitFor takes the answer that arrived meanwhile', async () => {
    const work = waitFor(roundTrip(), { timeoutMs: 100 }, systemClock, 'round trip');
    await stallAfterSending(400);
    await expect(work).resolves.toBe('x');
  });

  it("the data source's readTimeout lets a load whose answer arrived meanwhile finish", async () => {
    const engine = new DistCacheEngine({
      keySpaces: [
        { name: 'ks', readTimeout: 100, dataSource: async (_key, { signal }) => roundTrip(signal) },
      ],
    });
    await engine.start();
    try {
      const got = engine.get('ks', 'k');
      await stallAfterSending(400);
      await expect(got).resolves.toBe('x');
    } finally {
      await engine.stop();
    }
  });

  it('a data-source call still ends at its timeout, and never once disposed', async () => {
    const timed = new SourceCall('ks', undefined, 20, systemClock, () => new Error('late'));
    const disposed = new SourceCall('ks', undefined, 20, systemClock, () => new Error('late'));
    const disposedSignal = disposed.signal;
    await new Promise((resolve) => setTimeout(resolve, 10));
    disposed.dispose();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(timed.signal.aborted).toBe(true);
    expect((timed.signal.reason as Error).message).toBe('late');
    expect(disposedSignal.aborted).toBe(false);
  });
});
