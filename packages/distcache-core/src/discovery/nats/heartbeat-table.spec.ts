import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../testing/manual-clock';
import { HeartbeatTable } from './heartbeat-table';

const a = { host: '10.0.0.1', port: 3320, nodeName: 'a' };
const b = { host: '10.0.0.2', port: 3320, nodeName: 'b' };

describe('HeartbeatTable', () => {
  it('reports a change for a new peer and a rename, not for a repeated heartbeat', () => {
    const table = new HeartbeatTable(1_000);
    expect(table.seen(a, 0)).toBe(true);
    expect(table.seen(a, 10)).toBe(false);
    expect(table.seen({ ...a, nodeName: 'a2' }, 20)).toBe(true);
    expect(table.list()).toEqual([{ ...a, nodeName: 'a2' }]);
  });

  it('expires a peer silent for longer than the timeout, and only that one', async () => {
    const clock = new ManualClock();
    const table = new HeartbeatTable(1_000);
    table.seen(a, clock.now());
    table.seen(b, clock.now());
    await clock.advance(600);
    table.seen(b, clock.now());
    await clock.advance(400);
    expect(table.expire(clock.now())).toEqual([]); // exactly at the timeout: still listed
    await clock.advance(1);
    expect(table.expire(clock.now())).toEqual([a]);
    expect(table.list()).toEqual([b]);
  });

  it('expires nothing while paused, and grants a full timeout from resume', async () => {
    const clock = new ManualClock();
    const table = new HeartbeatTable(1_000);
    table.seen(a, clock.now());
    table.pause();
    await clock.advance(60_000);
    expect(table.expire(clock.now())).toEqual([]);
    table.resume(clock.now());
    await clock.advance(1_000);
    expect(table.expire(clock.now())).toEqual([]);
    await clock.advance(1);
    expect(table.expire(clock.now())).toEqual([a]);
  });

  it('does not count time this node was stalled against its peers', async () => {
    const clock = new ManualClock();
    const table = new HeartbeatTable(1_000);
    table.seen(a, clock.now());
    await clock.advance(900);
    table.seen(b, clock.now());
    await clock.advance(5_000); // this node was stalled for 5 s
    table.credit(5_000, clock.now());
    expect(table.expire(clock.now())).toEqual([]);
    await clock.advance(101);
    expect(table.expire(clock.now())).toEqual([a]);
    table.credit(60_000, clock.now()); // never pushes a peer into the future
    await clock.advance(1_001);
    expect(table.expire(clock.now())).toEqual([b]);
  });

  it('removes a departing peer at once', () => {
    const table = new HeartbeatTable(1_000);
    table.seen(a, 0);
    expect(table.remove({ host: a.host, port: a.port })).toBe(true);
    expect(table.remove(a)).toBe(false);
    expect(table.list()).toEqual([]);
  });

  it('hands out copies', () => {
    const table = new HeartbeatTable(1_000);
    table.seen(a, 0);
    (table.list()[0] as { port: number }).port = 1;
    expect(table.list()).toEqual([a]);
  });
});
