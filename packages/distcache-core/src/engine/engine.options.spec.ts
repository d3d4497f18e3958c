import { describe, expect, it } from 'vitest';
import { isDistCacheError } from '../errors/distcache-error';
import { defineKeySpace } from '../keyspace/keyspace.options';
import { DistCacheEngine } from './engine';
import { type DistCacheEngineOptions, resolveEngineOptions } from './engine.options';

function errorOf(options: unknown): Error & { code?: string } {
  try {
    new DistCacheEngine(options as DistCacheEngineOptions);
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the constructor to throw');
}

describe('engine options are validated at construction', () => {
  it('fills defaults, durations in milliseconds', () => {
    const resolved = resolveEngineOptions({ keySpaces: [{ name: 'a', ttl: '5m' }] });
    expect(resolved).toMatchObject({
      host: '127.0.0.1',
      port: 3320,
      cluster: 'distcache',
      maxKeyBytes: 1024,
      purgeIntervalMs: 60_000,
    });
    expect(resolved.keySpaces[0]).toMatchObject({
      name: 'a',
      ttlMs: 300_000,
      negativeTtlMs: 0,
      readTimeoutMs: 5_000,
      writeTimeoutMs: 5_000,
      maxBytes: 64 * 1024 * 1024,
      valueMode: 'frozen',
    });
    expect(resolved.keySpaces[0]!.codec.name).toBe('structured');
    expect(resolved.keySpaces[0]!.popularKeys).toEqual({ capacity: 1_000, halfLifeMs: 60_000 });
  });

  it('layers keyspace settings over engine defaults', () => {
    const resolved = resolveEngineOptions({
      keySpaceDefaults: { ttl: '1m', maxBytes: 1_000_000, readTimeout: 200 },
      keySpaces: [{ name: 'a' }, { name: 'b', ttl: '1h' }],
    });
    expect(resolved.keySpaces.map((ks) => [ks.ttlMs, ks.maxBytes, ks.readTimeoutMs])).toEqual([
      [60_000, 1_000_000, 200],
      [3_600_000, 1_000_000, 200],
    ]);
  });

  it('lets staleWhileRevalidate from the defaults be on a keyspace without grace (it applies to all)', () => {
    const resolved = resolveEngineOptions({
      keySpaceDefaults: { staleWhileRevalidate: true },
      keySpaces: [{ name: 'a' }, { name: 'b', grace: '1m' }],
    });
    expect(resolved.keySpaces.map((ks) => [ks.graceMs, ks.staleWhileRevalidate])).toEqual([
      [0, true],
      [60_000, true],
    ]);
  });

  it.each([
    [{ port: 70_000 }, 'port'],
    [{ port: -1 }, 'port'],
    [{ port: 1.5 }, 'port'],
    [{ host: '' }, 'host'],
    [{ nodeName: 'has space' }, 'nodeName'],
    [{ cluster: '' }, 'cluster'],
    [{ maxKeyBytes: 0 }, 'maxKeyBytes'],
    [{ purgeInterval: 0 }, 'purgeInterval'],
    [{ purgeInterval: '1 minute' }, 'purgeInterval'],
    [{ unknownOption: true }, 'unknownOption'],
    [{ discovery: {} }, 'discovery.initialize'],
    [{ keySpaceDefaults: { ttl: 'forever' } }, 'keySpaceDefaults'],
    [{ keySpaceDefaults: { colour: 'red' } }, 'keySpaceDefaults.colour'],
    [{ keySpaces: 'products' }, 'keySpaces'],
    [{ keySpaces: [{ name: '' }] }, 'keySpaces[0].name'],
    [{ keySpaces: [{ name: '-x' }] }, 'keySpaces[0].name'],
    [{ keySpaces: [{ name: 'a'.repeat(65) }] }, 'keySpaces[0].name'],
    [{ keySpaces: [{ name: 'a', maxBytes: 0 }] }, 'keySpaces[0].maxBytes'],
    [{ keySpaces: [{ name: 'a', maxBytes: -5 }] }, 'keySpaces[0].maxBytes'],
    [{ keySpaces: [{ name: 'a', maxValueBytes: 0 }] }, 'keySpaces[0].maxValueBytes'],
    [{ keySpaces: [{ name: 'a', ttl: 0 }] }, 'keySpaces[0].ttl'],
    [{ keySpaces: [{ name: 'a', ttl: '-5s' }] }, 'keySpaces[0].ttl'],
    [{ keySpaces: [{ name: 'a', negativeTtl: 'x' }] }, 'keySpaces[0].negativeTtl'],
    [{ keySpaces: [{ name: 'a', readTimeout: 0 }] }, 'keySpaces[0].readTimeout'],
    [{ keySpaces: [{ name: 'a', writeTimeout: NaN }] }, 'keySpaces[0].writeTimeout'],
    [{ keySpaces: [{ name: 'a', valueMode: 'mutable' }] }, 'keySpaces[0].valueMode'],
    [{ keySpaces: [{ name: 'a', dataSource: {} }] }, 'keySpaces[0].dataSource'],
    [{ keySpaces: [{ name: 'a', codec: { name: 'x' } }] }, 'keySpaces[0].codec'],
    [{ keySpaces: [{ name: 'a', tll: '5m' }] }, 'keySpaces[0].tll'],
    [{ keySpaces: [{ name: 'a', maxValueBytes: 8 << 20 }] }, 'keySpaces[0].maxValueBytes'],
    [{ clusterOptions: { hotShare: 1 } }, 'clusterOptions.hotShare'],
    [
      { keySpaces: [{ name: 'a', circuitBreaker: { volumeThreshold: -1 } }] },
      'keySpaces[0].circuitBreaker.volumeThreshold',
    ],
    [
      { keySpaces: [{ name: 'a', circuitBreaker: { errorThresholdPercentage: NaN } }] },
      'keySpaces[0].circuitBreaker.errorThresholdPercentage',
    ],
    [
      { keySpaces: [{ name: 'a', circuitBreaker: { resetTimeout: -5 } }] },
      'keySpaces[0].circuitBreaker.resetTimeout',
    ],
    [{ keySpaces: [{ name: 'a', rateLimit: { perSecond: 5, burst: 0 } }] }, 'keySpaces[0].rateLimit.burst'],
    [{ keySpaces: [{ name: 'a', rateLimit: { perSecond: -2 } }] }, 'keySpaces[0].rateLimit.perSecond'],
    [{ keySpaces: [{ name: 'a', rateLimit: { perSecond: NaN } }] }, 'keySpaces[0].rateLimit.perSecond'],
    [
      { keySpaceDefaults: { rateLimit: { perSecond: 10, maxWait: 'later' } } },
      'keySpaceDefaults.rateLimit.maxWait',
    ],
    [{ sharedRateLimit: { perSecond: 0 } }, 'sharedRateLimit.perSecond'],
    [{ keySpaces: [{ name: 'a', grace: '-1s' }] }, 'keySpaces[0].grace'],
    [{ keySpaces: [{ name: 'a', staleWhileRevalidate: 'yes' }] }, 'keySpaces[0].staleWhileRevalidate'],
    [{ keySpaces: [{ name: 'a', staleWhileRevalidate: true }] }, 'keySpaces[0].staleWhileRevalidate'],
    [{ keySpaces: [{ name: 'a', refreshAhead: '1m' }] }, 'keySpaces[0].refreshAhead'],
    [{ keySpaces: [{ name: 'a', ttl: '1m', refreshAhead: '2m' }] }, 'keySpaces[0].refreshAhead'],
    [{ keySpaces: [{ name: 'a', popularKeys: { capacity: 0 } }] }, 'keySpaces[0].popularKeys.capacity'],
    [{ keySpaces: [{ name: 'a', warmKeys: ['ok', ''] }] }, 'keySpaces[0].warmKeys'],
    [{ clusterOptions: { minMembers: 0 } }, 'clusterOptions.minMembers'],
    [{ clusterOptions: { joinRetries: -1 } }, 'clusterOptions.joinRetries'],
    [{ clusterOptions: { failureTimeout: 10, pingInterval: 100 } }, 'clusterOptions.failureTimeout'],
    [{ clusterOptions: { pingInterval: '1 sec' } }, 'clusterOptions.pingInterval'],
    [{ clusterOptions: { pingIntervall: '1s' } }, 'clusterOptions.pingIntervall'],
    [{ clusterOptions: { virtualNodes: 0 } }, 'clusterOptions.virtualNodes'],
    [{ clusterOptions: { maxBatchKeys: 0 } }, 'clusterOptions.maxBatchKeys'],
    [{ clusterOptions: { maxBatchKeys: 4097 } }, 'clusterOptions.maxBatchKeys'],
    [{ clusterOptions: { maxBatchKeyBytes: 512 } }, 'clusterOptions.maxBatchKeyBytes'],
    [{ transportOptions: { maxFrameBytes: 100 } }, 'transportOptions.maxFrameBytes'],
    [{ transportOptions: { reconnect: { jitter: 2 } } }, 'transportOptions.reconnect.jitter'],
    [{ transportOptions: { reconnect: { delay: 5 } } }, 'transportOptions.reconnect.delay'],
    [{ transportOptions: { nodeId: 'x' } }, 'transportOptions.nodeId'],
    [{ tls: { ca: 'c', cert: 'c' } }, 'tls.key'],
    [{ tls: { ca: 'c', cert: 'c', key: 'k', hostnamecheck: 'never' } }, 'tls.hostnamecheck'],
    [{ logger: { info: () => undefined } }, 'logger'],
    [{ sharedRateLimit: { perSecond: 5, brust: 10 } }, 'sharedRateLimit.brust'],
    [{ keySpaces: [{ name: 'a', circuitBreaker: { timeout: 5 } }] }, 'keySpaces[0].circuitBreaker.timeout'],
    [{ keySpaces: [{ name: 'a', popularKeys: { size: 5 } }] }, 'keySpaces[0].popularKeys.size'],
    [
      { keySpaces: [{ name: 'a', popularKeys: { capacity: 1_000_001 } }] },
      'keySpaces[0].popularKeys.capacity',
    ],
    [{ keySpaces: [{ name: 'a', popularKeys: { halfLife: 0 } }] }, 'keySpaces[0].popularKeys.halfLife'],
    [{ telemetry: { metric: true } }, 'telemetry.metric'],
  ])('rejects %j with E_INVALID_OPTION naming %s', (options, path) => {
    const error = errorOf(options);
    expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    expect(error.message).toContain(`"${path}`);
  });

  it('names the closest known field of a misspelt one', () => {
    expect(errorOf({ keySpaces: [{ name: 'a', tll: '5m' }] }).message).toBe(
      'Invalid option "keySpaces[0].tll": is not a known keyspace option; did you mean "ttl"?',
    );
    expect(errorOf({ purgeIntervall: '1m' }).message).toContain('did you mean "purgeInterval"?');
    expect(errorOf({ transportOptions: { maxFrameByte: 1 } }).message).toContain(
      'did you mean "maxFrameBytes"?',
    );
    expect(errorOf({ clusterOptions: { hotTTL: '1s' } }).message).toContain('did you mean "hotTtl"?');
  });

  it('says that a keyspace hotKeys setting is now popularKeys', () => {
    for (const options of [
      { keySpaces: [{ name: 'a', hotKeys: { capacity: 10 } }] },
      { keySpaceDefaults: { hotKeys: false } },
    ]) {
      const error = errorOf(options);
      expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
      expect(error.message).toMatch(/"keySpace(s\[0\]|Defaults)\.hotKeys": .*renamed to "popularKeys"/);
    }
    expect(() => defineKeySpace({ name: 'a', hotKeys: false } as never)).toThrow(/renamed to "popularKeys"/);
  });

  it('resolves the transport options with the engine options, without a transport', () => {
    const resolved = resolveEngineOptions({
      nodeName: 'n1',
      cluster: 'shop',
      port: 0,
      transportOptions: { maxFrameBytes: 16 << 20, handshakeTimeout: '500ms', reconnect: { jitter: 0 } },
    });
    expect(resolved.transport).toMatchObject({
      nodeId: 'n1',
      cluster: 'shop',
      host: '127.0.0.1',
      port: 0,
      maxFrameBytes: 16 << 20,
      handshakeTimeoutMs: 500,
      reconnectJitter: 0,
      maxInFlightPerPeer: 1024,
      tls: undefined,
    });
    // A keyspace value must fit a frame of the configured size, not of the default one.
    expect(() =>
      resolveEngineOptions({
        transportOptions: { maxFrameBytes: 16 << 20 },
        keySpaces: [{ name: 'a', maxValueBytes: 8 << 20 }],
      }),
    ).not.toThrow();
  });

  it('holds a keyspace added or updated at runtime to the same limits', async () => {
    const engine = new DistCacheEngine({ maxKeyBytes: 8, transportOptions: { maxFrameBytes: 1 << 20 } });
    const refused = (run: () => void): string => {
      try {
        run();
      } catch (error) {
        return isDistCacheError(error, 'E_INVALID_OPTION')
          ? (error.details['path'] as string)
          : String(error);
      }
      return 'accepted';
    };
    expect(refused(() => engine.addKeySpace({ name: 'a', maxValueBytes: 1 << 20 }))).toBe(
      'keySpace.maxValueBytes',
    );
    expect(refused(() => engine.addKeySpace({ name: 'a', warmKeys: ['123456789'] }))).toBe(
      'keySpace.warmKeys[0]',
    );
    expect(refused(() => engine.addKeySpace({ name: 'a', hotKeys: false } as never))).toBe(
      'keySpace.hotKeys',
    );
    expect(refused(() => engine.addKeySpace({ name: 'a', maxValueBytes: 1000 }))).toBe('accepted');
    expect(refused(() => engine.updateKeySpace({ name: 'a', maxValueBytes: 1 << 20 }))).toBe(
      'keySpace.maxValueBytes',
    );
    expect(engine.keySpaces()).toEqual(['a']);
    await engine.stop();
  });

  it('rejects duplicate keyspace names with E_KEYSPACE_EXISTS', () => {
    expect(errorOf({ keySpaces: [{ name: 'a' }, { name: 'a' }] }).code).toBe('E_KEYSPACE_EXISTS');
  });

  it('defineKeySpace validates at the definition site', () => {
    expect(() => defineKeySpace({ name: 'ok', ttl: '5m' })).not.toThrow();
    expect(() => defineKeySpace({ name: 'bad/name' })).toThrow(/keySpace.name/);
  });
});
