import { describe, expect, it } from 'vitest';
import { FrameWriter, type FrameSink } from './frame-writer';

class FakeSink implements FrameSink {
  /** Copies of the chunks written. */
  writes: Buffer[] = [];
  /** The chunks themselves (views of the writer's arena). */
  chunks: Uint8Array[] = [];
  /** False: the socket queues what it is given until `drain()`. */
  accept = true;
  /** Answer false although nothing stays queued (corked writes over the high-water mark). */
  overHighWater = false;
  /** Complete writes a turn later, as a TLS socket does, through their callbacks. */
  deferred = false;
  queued = 0;
  private callbacks: Array<() => void> = [];
  corked = 0;
  uncorked = 0;

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    this.uncorked++;
  }

  private drainListener: (() => void) | undefined;

  get writableLength(): number {
    return this.queued;
  }

  write(chunk: Uint8Array, callback?: () => void): boolean {
    this.writes.push(Buffer.from(chunk));
    this.chunks.push(chunk);
    if (!this.accept || this.deferred) this.queued += chunk.length;
    if (callback !== undefined) this.callbacks.push(callback);
    return this.accept && !this.overHighWater;
  }

  /** Completes the deferred writes: nothing stays queued, their callbacks run. */
  complete(): void {
    this.queued = 0;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  }

  once(_event: 'drain', listener: () => void): this {
    this.drainListener = listener;
    return this;
  }

  drain(): void {
    this.queued = 0;
    const listener = this.drainListener;
    this.drainListener = undefined;
    listener?.();
  }
}

/** The second chunk written sits where the first did (the arena started over), both intact. */
function expectSecondOverFirst(sink: FakeSink): void {
  const [first, second] = sink.chunks as [Uint8Array, Uint8Array];
  expect(second.buffer).toBe(first.buffer);
  expect(second.byteOffset).toBe(first.byteOffset);
  expect(sink.writes.map((chunk) => chunk[0])).toEqual([1, 2]);
}

const tick = (): Promise<void> => new Promise((resolve) => queueMicrotask(resolve));

describe('FrameWriter', () => {
  it('writes everything queued in one tick with one socket write', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    for (let i = 0; i < 128; i++) writer.write(Buffer.from([i]));
    expect(sink.writes).toHaveLength(0);
    await tick();
    expect(sink.writes).toHaveLength(1);
    expect([...(sink.writes[0] as Buffer)]).toEqual(Array.from({ length: 128 }, (_, i) => i));
  });

  it('stops writing when the socket says false and resumes on drain', async () => {
    const sink = new FakeSink();
    const blocked: boolean[] = [];
    const writer = new FrameWriter(sink, (value) => blocked.push(value));
    sink.accept = false;
    writer.write(Buffer.from([1]));
    await tick();
    expect(sink.writes).toHaveLength(1);
    expect(writer.blocked).toBe(true);
    writer.write(Buffer.from([2]));
    writer.write(Buffer.from([3]));
    await tick();
    expect(sink.writes).toHaveLength(1);
    expect(writer.pendingBytes).toBe(2);
    sink.accept = true;
    sink.drain();
    expect(sink.writes.map((chunk) => [...chunk])).toEqual([[1], [2, 3]]);
    expect(blocked).toEqual([true, false]);
    expect(writer.blocked).toBe(false);
  });

  it('writes frames that spilled over arenas as corked writes, in order', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, undefined, 16);
    for (let i = 0; i < 10; i++) writer.write(Buffer.alloc(6, i));
    await tick();
    expect(sink.writes.length).toBeGreaterThan(1);
    expect([sink.corked, sink.uncorked]).toEqual([1, 1]);
    expect([...Buffer.concat(sink.writes)]).toEqual(Array.from({ length: 60 }, (_, i) => Math.floor(i / 6)));
  });

  it('writes the next frames over the arena once the socket has written everything', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, undefined, 64);
    writer.write(Buffer.alloc(40, 1));
    await tick();
    writer.write(Buffer.alloc(40, 2));
    await tick();
    // Without reuse the second 40 bytes would not fit behind the first: a new arena each time.
    expectSecondOverFirst(sink);
  });

  it('never writes over bytes the socket still queues', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, undefined, 256);
    sink.accept = false;
    writer.write(Buffer.alloc(40, 1));
    await tick();
    expect(writer.blocked).toBe(true);
    writer.write(Buffer.alloc(40, 2));
    sink.accept = true;
    sink.drain();
    const [first, second] = sink.chunks as [Uint8Array, Uint8Array];
    expect([...first]).toEqual(new Array(40).fill(1));
    expect(second.byteOffset).toBe(first.byteOffset + 40);
    // Both left: the arena starts over.
    writer.write(Buffer.alloc(40, 3));
    await tick();
    expect(sink.chunks[2]?.byteOffset).toBe(first.byteOffset);
  });

  it('starts the arena over when a write completes later, as a TLS socket completes it', async () => {
    const sink = new FakeSink();
    sink.deferred = true;
    const writer = new FrameWriter(sink, undefined, 64);
    writer.write(Buffer.alloc(40, 1));
    await tick();
    expect(sink.writableLength).toBe(40);
    sink.complete();
    writer.write(Buffer.alloc(40, 2));
    await tick();
    expectSecondOverFirst(sink);
  });

  it('does not wait for drain when a write said false but nothing stayed queued', async () => {
    const sink = new FakeSink();
    const blocked: boolean[] = [];
    const writer = new FrameWriter(sink, (value) => blocked.push(value));
    sink.overHighWater = true;
    writer.write(Buffer.alloc(50_000, 1));
    await tick();
    expect(writer.blocked).toBe(false);
    expect(blocked).toEqual([]);
    writer.write(Buffer.from([2]));
    await tick();
    expect(sink.writes).toHaveLength(2);
  });

  it('drops frames after close()', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    writer.write(Buffer.from([1]));
    writer.close();
    writer.write(Buffer.from([2]));
    await tick();
    expect(sink.writes).toHaveLength(0);
  });

  it('flush() writes at once', () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    writer.write(Buffer.from([1]));
    writer.flush();
    expect(sink.writes).toHaveLength(1);
  });
});
