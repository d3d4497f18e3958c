import { describe, expect, it } from 'vitest';
import { FrameWriter, type FrameSink } from './frame-writer';

class FakeSink implements FrameSink {
  writes: Buffer[] = [];
  accept = true;
  corked = 0;
  uncorked = 0;

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    this.uncorked++;
  }

  private drainListener: (() => void) | undefined;

  write(chunk: Uint8Array): boolean {
    this.writes.push(Buffer.from(chunk));
    return this.accept;
  }

  once(_event: 'drain', listener: () => void): this {
    this.drainListener = listener;
    return this;
  }

  drain(): void {
    const listener = this.drainListener;
    this.drainListener = undefined;
    listener?.();
  }
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
