// The Terminus indicator on one node: quorum and open breakers, through a real HTTP endpoint.
import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { staticDiscovery } from 'distcache-core';
import { DistCacheModule, DistCacheService, KeySpace, type KeySpaceProvider } from '../src';
import { DistCacheHealthIndicator } from '../src/terminus';
import { freePorts, waitUntil } from './support/net';

@KeySpace({
  name: 'fragile',
  circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeout: '1m' },
})
@Injectable()
class FragileSource implements KeySpaceProvider<string> {
  async fetch(key: string): Promise<string> {
    throw new Error(`backend down for ${key}`);
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly distcache: DistCacheHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.distcache.isHealthy('cache')]);
  }

  @Get('strict')
  @HealthCheck()
  strict() {
    return this.health.check([() => this.distcache.isHealthy('cache', { onOpenBreaker: 'down' })]);
  }

  @Get('quorum')
  @HealthCheck()
  quorum() {
    return this.health.check([() => this.distcache.isHealthy('cache', { minMembers: 2 })]);
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function startApp(engine: Parameters<typeof DistCacheModule.forRoot>[0] = {}): Promise<string> {
  const moduleRef = await Test.createTestingModule({
    imports: [DistCacheModule.forRoot({ isGlobal: true, ...engine }), TerminusModule],
    controllers: [HealthController],
    providers: [FragileSource, DistCacheHealthIndicator],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app.getUrl();
}

describe('DistCacheHealthIndicator', () => {
  it('names a listed peer that is not a member with its reason, not prefixed twice, as degraded (still 200)', async () => {
    const [port] = (await freePorts(1)) as [number];
    // Port 1 (tcpmux): nothing listens there, and no other test can take it between a free-port
    // probe and the connect, as one of the suites running beside this one could with a free port.
    const deadId = '127.0.0.1:1';
    const url = await startApp({
      port,
      host: '127.0.0.1',
      discovery: staticDiscovery({ peers: [`127.0.0.1:${port}`, deadId] }),
    });
    let body: { info?: { cache?: { peerProblems?: string[]; message?: string } } } = {};
    await waitUntil(
      async () => {
        body = (await (await fetch(`${url}/health`)).json()) as typeof body;
        return (body.info?.cache?.peerProblems?.length ?? 0) > 0;
      },
      10_000,
      'a peer problem reported',
    );
    const problems = body.info!.cache!.peerProblems!;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(deadId);
    expect(problems[0]).toMatch(/ECONNREFUSED|unavailable/);
    // Named by its reason ("Peer 127.0.0.1:X is unavailable: ..."), not prefixed with it again.
    expect(problems[0]!.startsWith(deadId)).toBe(false);
    expect(body.info!.cache!.message).toBe(`peers not in the cluster: ${problems[0]}`);
  });

  it('is down below the quorum it is given', async () => {
    const url = await startApp();
    const response = await fetch(`${url}/health/quorum`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      error: {
        cache: { status: 'down', members: 1, minMembers: 2, quorum: false, message: '1 of 2 members needed' },
      },
    });
  });

  it('reports an open breaker as degraded by default (still 200), or down when asked', async () => {
    const url = await startApp();
    const cache = app!.get(DistCacheService);
    const opened = firstValueFrom(
      cache.events$.pipe(filter((event) => event.kind === 'breaker' && event.state === 'open')),
    );
    for (const key of ['a', 'b', 'c']) await expect(cache.get('fragile', key)).rejects.toThrow();
    expect(await opened).toEqual({ kind: 'breaker', keySpace: 'fragile', state: 'open' });

    const degraded = await fetch(`${url}/health`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({
      status: 'degraded',
      details: {
        cache: { status: 'degraded', openBreakers: ['fragile'], message: 'circuit breaker open: fragile' },
      },
    });
    const strict = await fetch(`${url}/health/strict`);
    expect(strict.status).toBe(503);
    expect(await strict.json()).toMatchObject({
      error: { cache: { status: 'down', openBreakers: ['fragile'] } },
    });
  });
});
