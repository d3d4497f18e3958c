// RemoteLoading against a scripted coordinator: what goes on the wire for a batch, and how each
// kind of failure ends per key.
import { describe, expect, it } from 'vitest';
import { DistCacheError } from '../errors/distcache-error';
import { KeySpace } from '../keyspace/keyspace';
import { resolveKeySpaceConfig } from '../keyspace/keyspace.options';
import type { PeerRequest, PeerResponse, ValueResult } from '../transport/transport';
import { systemClock } from '../util/clock';
import type { ClusterCoordinator, PeerRef } from './coordinator';
import { DEFAULT_MAX_BATCH_KEY_BYTES, DEFAULT_MAX_BATCH_KEYS } from './cluster.options';
import { OWNER_ANSWER_SLACK_MS, RemoteLoading } from './remote-loader';

const OWNER: PeerRef = { id: '127.0.0.1:9', host: '127.0.0.1', port: 9 };

function setup(
  answer: (request: PeerRequest, space: KeySpace<string>) => PeerResponse | Error | Promise<PeerResponse>,
  limits: { maxBatchKeys?: number; maxBatchKeyBytes?: number; readTimeout?: number } = {},
) {
  const sourceCalls: string[] = [];
  const space = new KeySpace<string>(
    resolveKeySpaceConfig<string>(
      {
        name: 'ks',
        ...(limits.readTimeout === undefined ? {} : { readTimeout: limits.readTimeout }),
        dataSource: {
          fetch: (key) => {
            sourceCalls.push(key);
            return `local ${key}`;
          },
        },
      },
      {},
      'keySpace',
    ),
    {
      clock: systemClock,
      lifetime: new AbortController().signal,
      hotShare: 0.25,
      readNow: () => systemClock.now(),
    },
  );
  const sent: PeerRequest[] = [];
  /** The `timeoutMs` each request in `sent` was given. */
  const timeouts: number[] = [];
  /** Whether each request in `sent` was to be written at once (`sendNow`). */
  const sentNow: boolean[] = [];
  let release: (() => void) | undefined;
  const coordinator = {
    send: (_peer: PeerRef, request: PeerRequest, options: { timeoutMs: number; sendNow?: boolean }) => {
      // The read `hold` starts: unanswered until released, and not listed in `sent`.
      if (request.op === 'get' && request.key === HELD) {
        return new Promise<PeerResponse>((resolve) => {
          release = () => resolve({ op: 'value', result: found(HELD, space) });
        });
      }
      sent.push(request);
      timeouts.push(options.timeoutMs);
      sentNow.push(options.sendNow === true);
      const response = answer(request, space);
      // A promise answers when it settles.
      return response instanceof Error ? Promise.reject(response) : Promise.resolve(response);
    },
  } as unknown as ClusterCoordinator;
  const remote = new RemoteLoading({
    coordinator,
    clock: systemClock,
    hotTtlMs: 10_000,
    maxBatchKeys: limits.maxBatchKeys ?? DEFAULT_MAX_BATCH_KEYS,
    maxBatchKeyBytes: limits.maxBatchKeyBytes ?? DEFAULT_MAX_BATCH_KEY_BYTES,
  });
  const read = (keys: readonly string[]): Promise<Array<string | undefined>> => {
    const flights = keys.map((key) => remote.read(space, OWNER, key));
    return Promise.all(
      flights.map((flight) =>
        flight.promise.then((entry) => space.readLoaded(flight.key, entry, flight.kept)),
      ),
    );
  };
  /**
   * Leaves one read of the owner unanswered (until the returned function is called), so that the
   * next turn's reads travel in as few requests as the limits allow, not split in two.
   */
  const hold = async (): Promise<() => void> => {
    const held = remote.read(space, OWNER, HELD);
    await new Promise((resolve) => setImmediate(resolve));
    return () => {
      release?.();
      void held.promise;
    };
  };
  return { space, sent, timeouts, sentNow, sourceCalls, remote, read, hold };
}

const HELD = 'held-key';

/** The owner's answer when it holds every key asked for. */
const fromOwner = (request: PeerRequest, space: KeySpace<string>): PeerResponse =>
  request.op === 'getMany'
    ? { op: 'values', results: request.keys.map((key) => found(key, space)) }
    : { op: 'value', result: found((request as { key: string }).key, space) };

const sizeOf = (request: PeerRequest): number => (request.op === 'getMany' ? request.keys.length : 1);

const found = (key: string, space: KeySpace<string>): ValueResult => ({
  found: true,
  value: space.encode(key, `owner ${key}`),
  expiresAt: 0,
});

describe('RemoteLoading', () => {
  it('sends the reads of one turn as one GET_MANY, and one alone as a GET', async () => {
    const { sent, read } = setup(fromOwner);
    expect(await read(['a', 'b', 'c'])).toEqual(['owner a', 'owner b', 'owner c']);
    expect(await read(['d'])).toEqual(['owner d']);
    expect(sent.map((request) => request.op)).toEqual(['getMany', 'get']);
    expect(sent[0]).toMatchObject({ keys: ['a', 'b', 'c'], forwarded: true, keyErrors: true });
  });

  it("writes a getMany's last request at once, and a turn's reads and follow-ups with the rest of the tick", async () => {
    // The owner answers b and d "pending" (still loading there); each is asked for again alone.
    const { space, sent, sentNow, read, remote } = setup(
      (request, keySpace) => {
        if (request.op !== 'getMany') return fromOwner(request, keySpace);
        return {
          op: 'values',
          results: request.keys.map((key) =>
            key === 'b' || key === 'd' ? { found: 'pending' as const } : found(key, keySpace),
          ),
        };
      },
      { maxBatchKeys: 2 },
    );
    // A turn's reads: queued, sent once the turn's callbacks ran.
    expect(await read(['x', 'y'])).toEqual(['owner x', 'owner y']);
    expect(sentNow).toEqual([false]);
    sent.length = 0;
    sentNow.length = 0;
    // A getMany of 5 keys in requests of 2: the first two queued, the last (e alone, a GET) written
    // at once with them.
    const flights = ['a', 'b', 'c', 'd', 'e'].map((key) => space.beginRemote(key));
    await remote.fetch(space, OWNER, flights);
    expect(flights.map((flight) => space.readLoaded(flight.key, flight.entry(), flight.kept))).toEqual(
      ['a', 'b', 'c', 'd', 'e'].map((key) => `owner ${key}`),
    );
    expect(sent.map(sizeOf)).toEqual([2, 2, 1, 1, 1]);
    // The GETs for the pending keys go with the rest of their tick, not one write each.
    expect(sentNow).toEqual([false, false, true, false, false]);
  });

  it('splits a turn of 4 reads or more in two requests when nothing is on its way to the owner', async () => {
    const { sent, read, hold } = setup(fromOwner);
    const keys = Array.from({ length: 17 }, (_, index) => `k${index}`);
    expect(await read(keys)).toEqual(keys.map((key) => `owner ${key}`));
    expect(await read(['x', 'y', 'z'])).toEqual(['owner x', 'owner y', 'owner z']);
    expect(await read(['a', 'b', 'c', 'd'])).toEqual(['owner a', 'owner b', 'owner c', 'owner d']);
    // 17 -> 9 + 8; 3 (fewer than 4) stay together; 4 -> 2 + 2.
    expect(sent.map(sizeOf)).toEqual([9, 8, 3, 2, 2]);
    // One read unanswered: the next turn's reads go whole.
    sent.length = 0;
    const release = await hold();
    expect(await read(keys)).toEqual(keys.map((key) => `owner ${key}`));
    expect(sent.map(sizeOf)).toEqual([17]);
    release();
    // Answered: split again.
    await new Promise((resolve) => setImmediate(resolve));
    sent.length = 0;
    await read(keys);
    expect(sent.map(sizeOf)).toEqual([9, 8]);
  });

  it('keeps a split turn to maxBatchKeys: the first request half the reads at most', async () => {
    const byKeys = setup(fromOwner, { maxBatchKeys: 16 });
    const keys = Array.from({ length: 40 }, (_, index) => `k${index}`);
    expect(await byKeys.read(keys)).toEqual(keys.map((key) => `owner ${key}`));
    expect(byKeys.sent.map(sizeOf)).toEqual([16, 16, 8]);
  });

  it('sends the second half again once the first is answered when it is refused for the in-flight limit', async () => {
    let refused = 0;
    const { space, sent, sourceCalls, read } = setup((request) => {
      const keys = (request as { keys: string[] }).keys;
      if (keys[0] === 'c' && refused++ === 0)
        return new DistCacheError('E_TOO_MANY_REQUESTS', 'more than 1 request in flight');
      return { op: 'values', results: keys.map((key) => found(key, space)) };
    });
    expect(await read(['a', 'b', 'c', 'd'])).toEqual(['owner a', 'owner b', 'owner c', 'owner d']);
    expect(sent.map((request) => (request as { keys: string[] }).keys.join(''))).toEqual(['ab', 'cd', 'cd']);
    expect(sourceCalls).toEqual([]);
    expect(space.stats()).toMatchObject({ fallbackLoads: 0, peerErrors: 0, peerLoads: 4 });
    // Refused again (the limit is taken by something else): the keys fall back as before.
    refused = -1;
    sent.length = 0;
    const again = setup((request) =>
      (request as { keys: string[] }).keys[0] === 'g'
        ? new DistCacheError('E_TOO_MANY_REQUESTS', 'more than 1 request in flight')
        : {
            op: 'values',
            results: (request as { keys: string[] }).keys.map((key) => found(key, again.space)),
          },
    );
    expect(await again.read(['e', 'f', 'g', 'h'])).toEqual(['owner e', 'owner f', 'local g', 'local h']);
    expect(again.space.stats()).toMatchObject({ fallbackLoads: 2 });
  });

  it("sends the refused rest once the first request is answered, not once the first half's loads end", async () => {
    // The owner answers a and b "pending" (still loading there); their own GETs hang until released.
    let releaseLoads: (() => void) | undefined;
    const loadsDone = new Promise<void>((resolve) => (releaseLoads = resolve));
    let refused = false;
    const { space, sent, sourceCalls, read } = setup((request) => {
      if (request.op === 'get')
        return loadsDone.then((): PeerResponse => ({ op: 'value', result: found(request.key, space) }));
      const keys = (request as { keys: string[] }).keys;
      if (keys[0] === 'a') return { op: 'values', results: keys.map(() => ({ found: 'pending' as const })) };
      if (!refused) {
        refused = true;
        return new DistCacheError('E_TOO_MANY_REQUESTS', 'more than 1 request in flight');
      }
      return { op: 'values', results: keys.map((key) => found(key, space)) };
    });
    const values = read(['a', 'b', 'c', 'd']);
    const label = (request: PeerRequest): string =>
      request.op === 'get' ? `get ${request.key}` : (request as { keys: string[] }).keys.join('');
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The loads of a and b have not ended, and c and d were sent again (and answered) meanwhile.
    expect(sent.map(label)).toEqual(['ab', 'cd', 'get a', 'get b', 'cd']);
    releaseLoads?.();
    expect(await values).toEqual(['owner a', 'owner b', 'owner c', 'owner d']);
    expect(sourceCalls).toEqual([]);
  });

  it('asks again for a key the owner answered as pending within what is left of the read timeout', async () => {
    // Found by the slow-peer fault test: a GET_MANY answered late with a key still loading asked
    // for it with a fresh read timeout, so the get ended ~1.8x the read timeout after it began.
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const { space, sent, timeouts, read } = setup(
      async (request): Promise<PeerResponse> => {
        if (request.op === 'get') return { op: 'value', result: found(request.key, space) };
        await sleep(60);
        const keys = (request as { keys: string[] }).keys;
        return {
          op: 'values',
          results: keys.map((key) => (key === 'b' ? { found: 'pending' } : found(key, space))),
        };
      },
      { readTimeout: 1_000 },
    );
    expect(await read(['a', 'b'])).toEqual(['owner a', 'owner b']);
    expect(sent.map((request) => request.op)).toEqual(['getMany', 'get']);
    // The read timeout and the slack for the owner's answer (OWNER_ANSWER_SLACK_MS).
    expect(timeouts[0]).toBe(1_000 + OWNER_ANSWER_SLACK_MS);
    // At least the 60 ms the first answer took are gone (timers may fire a millisecond early).
    expect(timeouts[1]).toBeLessThanOrEqual(1_000 + OWNER_ANSWER_SLACK_MS - 55);
    expect(timeouts[1]).toBeGreaterThan(OWNER_ANSWER_SLACK_MS);
  });

  it('fails a pending key with E_TIMEOUT, asking nothing more, when its read timeout has passed', async () => {
    const { space, sent, sourceCalls, read } = setup(
      async (request): Promise<PeerResponse> => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        const keys = (request as { keys: string[] }).keys;
        return {
          op: 'values',
          results: keys.map((key) => (key === 'b' ? { found: 'pending' } : found(key, space))),
        };
      },
      { readTimeout: 30 },
    );
    const outcomes = await Promise.allSettled(['a', 'b'].map((key) => read([key])));
    // Both reads left in one turn, one GET_MANY; the late answer still gives a its value.
    expect(sent.map((request) => request.op)).toEqual(['getMany']);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: ['owner a'] });
    const failed = outcomes[1] as PromiseRejectedResult;
    expect((failed.reason as DistCacheError).code).toBe('E_TIMEOUT');
    expect((failed.reason as Error).message).toMatch(/readTimeout/);
    expect(sourceCalls).toEqual([]);
  });

  it(`splits a batch over ${DEFAULT_MAX_BATCH_KEYS} keys`, async () => {
    const { space, sent, read, hold } = setup((request) => ({
      op: 'values',
      results: (request as { keys: string[] }).keys.map((key) => found(key, space)),
    }));
    const release = await hold();
    const keys = Array.from({ length: DEFAULT_MAX_BATCH_KEYS + 3 }, (_, index) => `k${index}`);
    expect(await read(keys)).toEqual(keys.map((key) => `owner ${key}`));
    release();
    expect(sent.map((request) => (request as { keys: string[] }).keys.length)).toEqual([
      DEFAULT_MAX_BATCH_KEYS,
      3,
    ]);
  });

  it('keeps to clusterOptions.maxBatchKeys and maxBatchKeyBytes', async () => {
    const byKeys = setup(fromOwner, { maxBatchKeys: 4 });
    const keys = Array.from({ length: 10 }, (_, index) => `key-${index}`);
    expect(await byKeys.read(keys)).toEqual(keys.map((key) => `owner ${key}`));
    expect(byKeys.sent.map(sizeOf)).toEqual([4, 4, 2]);
    // 1,024 bytes hold 40 keys of 7 units (4 + 3 * 7 = 25 bytes each), not 41.
    const byBytes = setup(fromOwner, { maxBatchKeyBytes: 1024 });
    const release = await byBytes.hold();
    const many = Array.from({ length: 50 }, (_, index) => `key-${String(index).padStart(3, '0')}`);
    expect(await byBytes.read(many)).toEqual(many.map((key) => `owner ${key}`));
    release();
    expect(byBytes.sent.map(sizeOf)).toEqual([40, 10]);
    // 1: every key alone, as a GET.
    const alone = setup(fromOwner, { maxBatchKeys: 1 });
    await alone.read(['a', 'b', 'c']);
    expect(alone.sent.map((request) => request.op)).toEqual(['get', 'get', 'get']);
  });

  it('falls back per key when the owner cannot be reached', async () => {
    const { sent, sourceCalls, read, space } = setup(
      () => new DistCacheError('E_PEER_UNAVAILABLE', 'connection refused'),
    );
    expect(await read(['a', 'b'])).toEqual(['local a', 'local b']);
    expect(sent).toHaveLength(1);
    expect(sourceCalls).toEqual(['a', 'b']);
    expect(space.stats()).toMatchObject({ fallbackLoads: 2, peerErrors: 2, peerLoads: 0 });
  });

  it('fails each key with a timeout, without a fallback load', async () => {
    const { sourceCalls, read } = setup(() => new DistCacheError('E_TIMEOUT', 'too slow'));
    const outcomes = await Promise.allSettled(['a', 'b'].map((key) => read([key])));
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { code: 'E_TIMEOUT' } });
    }
    expect(sourceCalls).toEqual([]);
  });

  it('splits a batch whose answer is over the frame limit (E_PROTOCOL) into halves', async () => {
    const { sent, read, hold } = setup((request, space) =>
      request.op === 'getMany' && request.keys.length > 2
        ? { op: 'error', code: 'E_PROTOCOL', message: 'the response is over the frame limit' }
        : fromOwner(request, space),
    );
    const release = await hold();
    expect(await read(['a', 'b', 'c', 'd', 'e'])).toEqual(['a', 'b', 'c', 'd', 'e'].map((k) => `owner ${k}`));
    release();
    expect(sent.map((request) => (request.op === 'getMany' ? request.keys.join('') : 'get'))).toEqual([
      'abcde',
      'abc',
      'de',
      'ab',
      'get',
    ]);
  });

  it('loads each key here when the owner answers a batch with the wrong number of results', async () => {
    const { space, sent, sourceCalls, read } = setup((request) => ({
      op: 'values',
      results: (request as { keys: string[] }).keys.slice(1).map((key) => found(key, space)),
    }));
    expect(await read(['a', 'b', 'c'])).toEqual(['local a', 'local b', 'local c']);
    expect(sent).toHaveLength(1);
    expect(sourceCalls).toEqual(['a', 'b', 'c']);
    expect(space.stats()).toMatchObject({ fallbackLoads: 3, peerErrors: 3, peerLoads: 0 });
  });

  it('asks key by key when an older owner answers one ERROR for the whole batch', async () => {
    const { space, sent, read } = setup((request) => {
      if (request.op === 'getMany') return { op: 'error', code: 'E_DATASOURCE_FAILED', message: 'b failed' };
      const key = (request as { key: string }).key;
      return key === 'b'
        ? { op: 'error', code: 'E_DATASOURCE_FAILED', message: 'b failed' }
        : { op: 'value', result: found(key, space) };
    });
    const flights = ['a', 'b', 'c'].map((key) => read([key]).then(([value]) => value));
    const outcomes = await Promise.allSettled(flights);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sent.map((request) => request.op)).toEqual(['getMany', 'get', 'get', 'get']);
  });

  it('reads a key error of an extended VALUES as that key failing alone', async () => {
    const { space, read } = setup((request) => ({
      op: 'values',
      results: (request as { keys: string[] }).keys.map((key) =>
        key === 'b'
          ? { found: 'error', code: 'E_DATASOURCE_FAILED', message: 'b failed' }
          : found(key, space),
      ),
    }));
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((key) => read([key]).then(([v]) => v)));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(space.stats()).toMatchObject({ peerLoads: 2, fallbackLoads: 0 });
  });
});
