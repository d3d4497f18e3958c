import { describe, expect, it } from 'vitest';
import type { DiscoveryProvider } from '../discovery/discovery';
import { standaloneDiscovery } from '../discovery/standalone.discovery';
import { isDistCacheError } from '../errors/distcache-error';
import { ManualClock } from '../testing/manual-clock';
import { RecordingSource } from '../testing/recording-source';
import { DistCacheEngine } from './engine';
import type { EngineState } from './engine.events';
import { rejectionOf } from '../../test/support/engine.fixture';

function engineWith(discovery: DiscoveryProvider = standaloneDiscovery(), clock = new ManualClock()) {
  const source = new RecordingSource<number>([['a', 1]]);
  return new DistCacheEngine({
    clock,
    discovery,
    port: 0,
    clusterOptions: { joinRetries: 0 },
    keySpaces: [{ name: 'ks', dataSource: source }],
  });
}

/** A discovery provider that records its calls and can be told to fail a step. */
function trackingDiscovery(failAt?: 'initialize' | 'register') {
  const calls: string[] = [];
  const step = (name: string) => () => {
    calls.push(name);
    return name === failAt ? Promise.reject(new Error(`${name} refused`)) : Promise.resolve();
  };
  const provider: DiscoveryProvider = {
    name: 'tracking',
    initialize: step('initialize'),
    register: step('register'),
    discoverPeers: () => Promise.resolve([]),
    deregister: step('deregister'),
    close: step('close'),
  };
  return { provider, calls };
}

describe('engine lifecycle', () => {
  it('moves idle -> starting -> running -> stopping -> stopped and emits each state', async () => {
    const engine = engineWith();
    const states: EngineState[] = [];
    engine.on('state', (state) => states.push(state));
    expect(engine.state).toBe('idle');
    await engine.start();
    await engine.stop();
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
  });

  it('start() is idempotent and concurrent calls share one start', async () => {
    const { provider, calls } = trackingDiscovery();
    const engine = engineWith(provider);
    await Promise.all([engine.start(), engine.start()]);
    await engine.start();
    expect(calls).toEqual(['initialize', 'register']);
    await engine.stop();
  });

  it('stop() is idempotent, concurrent-safe, and a second stop does not throw', async () => {
    const { provider, calls } = trackingDiscovery();
    const engine = engineWith(provider);
    await engine.start();
    await Promise.all([engine.stop(), engine.stop()]);
    await engine.stop();
    expect(calls).toEqual(['initialize', 'register', 'deregister', 'close']);
  });

  it('stop() before start() is allowed and final', async () => {
    const engine = engineWith();
    await engine.stop();
    expect(engine.state).toBe('stopped');
    expect(isDistCacheError(await rejectionOf(engine.start()), 'E_ENGINE_STOPPED')).toBe(true);
  });

  it('stop() during start() waits for the start, then tears everything down', async () => {
    const { provider, calls } = trackingDiscovery();
    const engine = engineWith(provider);
    const starting = engine.start();
    const stopping = engine.stop();
    await Promise.all([starting, stopping]);
    expect(engine.state).toBe('stopped');
    expect(calls).toEqual(['initialize', 'register', 'deregister', 'close']);
  });

  it.each(['initialize', 'register'] as const)(
    'a start that fails at %s releases what it opened and can be retried',
    async (failAt) => {
      const { provider, calls } = trackingDiscovery(failAt);
      const clock = new ManualClock();
      const engine = engineWith(provider, clock);
      const error = await rejectionOf(engine.start());
      expect(isDistCacheError(error, 'E_START_FAILED')).toBe(true);
      expect(((error as Error).cause as Error).message).toBe(`${failAt} refused`);
      expect(engine.state).toBe('idle');
      expect(calls.at(-1)).toBe('close');
      expect(calls).not.toContain('deregister');
      expect(clock.pendingTimers).toBe(0);
      provider.initialize = () => Promise.resolve();
      provider.register = () => Promise.resolve();
      await engine.start();
      expect(engine.state).toBe('running');
      await engine.stop();
      expect(clock.pendingTimers).toBe(0);
    },
  );

  it('rejects every operation before start() with E_ENGINE_NOT_STARTED', async () => {
    const engine = engineWith();
    const operations = [
      engine.get('ks', 'a'),
      engine.getMany('ks', ['a']),
      engine.put('ks', 'a', 1),
      engine.putMany('ks', [{ key: 'a', value: 1 }]),
      engine.delete('ks', 'a'),
      engine.deleteMany('ks', ['a']),
    ];
    for (const operation of operations) {
      const error = await rejectionOf(operation);
      expect(isDistCacheError(error, 'E_ENGINE_NOT_STARTED')).toBe(true);
      expect((error as Error).message).toMatch(
        /the engine is not started \(call and await engine\.start\(\)/,
      );
    }
    await engine.stop();
  });

  it('tells a caller that did not await start() that the engine is still starting', async () => {
    const engine = engineWith();
    const starting = engine.start();
    const error = await rejectionOf(engine.get('ks', 'a'));
    expect(isDistCacheError(error, 'E_ENGINE_NOT_STARTED')).toBe(true);
    expect((error as Error).message).toBe(
      'Cannot get: the engine is still starting (await engine.start() before using it)',
    );
    await starting;
    await engine.stop();
  });

  it('rejects every operation after stop() with E_ENGINE_STOPPED', async () => {
    const engine = engineWith();
    await engine.start();
    await engine.stop();
    const operations = [
      engine.get('ks', 'a'),
      engine.getMany('ks', ['a']),
      engine.put('ks', 'a', 1),
      engine.delete('ks', 'a'),
      engine.deleteKeySpace('ks'),
    ];
    for (const operation of operations) {
      expect(isDistCacheError(await rejectionOf(operation), 'E_ENGINE_STOPPED')).toBe(true);
    }
    expect(() => engine.addKeySpace({ name: 'other' })).toThrow(
      expect.objectContaining({ code: 'E_ENGINE_STOPPED' }),
    );
  });

  it('aborts loads in flight with E_ENGINE_STOPPED and frees memory on stop', async () => {
    const source = new RecordingSource<number>();
    source.hang = true;
    const engine = new DistCacheEngine({
      clock: new ManualClock(),
      keySpaces: [{ name: 'ks', dataSource: source }],
    });
    await engine.start();
    await engine.put('ks', 'kept', 1);
    const read = rejectionOf(engine.get('ks', 'slow'));
    await new Promise((resolve) => setImmediate(resolve));
    await engine.stop();
    expect(isDistCacheError(await read, 'E_ENGINE_STOPPED')).toBe(true);
    expect(source.calls[0]!.signal.aborted).toBe(true);
    expect(engine.stats().keySpaces.ks).toMatchObject({ items: 0, bytes: 0 });
  });
});
