// A Nest service migrated from @nestjs/cache-manager: CacheModule with the distcache Keyv store
// and CacheInterceptor on a controller, in its own process (forked by http-cache.e2e.spec.ts).
import { CACHE_MANAGER, CacheInterceptor, CacheModule } from '@nestjs/cache-manager';
import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  Param,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Cache } from 'cache-manager';
import { type DistCacheEngine, staticDiscovery } from 'distcache-core';
import { KeyvDistCache } from 'distcache-core/keyv';
import Keyv from 'keyv';
import { DISTCACHE_ENGINE, DistCacheModule, DistCacheService } from '../../src';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

/** How often each handler ran on this node, per id. */
@Injectable()
class Runs {
  readonly counts = new Map<string, number>();

  record(id: string): number {
    const count = (this.counts.get(id) ?? 0) + 1;
    this.counts.set(id, count);
    return count;
  }
}

@Controller('items')
@UseInterceptors(CacheInterceptor)
class ItemsController {
  constructor(private readonly runs: Runs) {}

  @Get(':id')
  item(@Param('id') id: string): { id: string; node: string; run: number } {
    return { id, node: env('NODE_NAME'), run: this.runs.record(id) };
  }
}

@Controller('admin')
class AdminController {
  constructor(
    private readonly runs: Runs,
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
  ) {}

  @Get('runs/:id')
  count(@Param('id') id: string): { count: number } {
    return { count: this.runs.counts.get(id) ?? 0 };
  }

  /** Whether this node's cache manager sees an entry for `key` (a URL). */
  @Get('cached')
  async cached(@Query('key') key: string): Promise<{ cached: boolean }> {
    return { cached: (await this.cache.get(key)) !== undefined };
  }

  @Post('evict/:id')
  @HttpCode(204)
  async evict(@Param('id') id: string): Promise<void> {
    await this.cache.del(`/items/${id}`);
  }
}

/** What the test harness polls until every replica sees every member. */
@Controller('cluster')
class ClusterController {
  constructor(private readonly cache: DistCacheService) {}

  @Get()
  members(): { members: number } {
    return { members: this.cache.stats().members };
  }
}

@Module({
  imports: [
    DistCacheModule.forRoot({
      isGlobal: true,
      nodeName: env('NODE_NAME'),
      host: '127.0.0.1',
      port: Number(env('CACHE_PORT')),
      discovery: staticDiscovery({ peers: env('CACHE_PEERS').split(',') }),
      clusterOptions: JSON.parse(env('CLUSTER_OPTIONS')) as Record<string, number>,
    }),
    // What the migration guide shows: the cache-manager setup stays, the store changes.
    CacheModule.registerAsync({
      inject: [DISTCACHE_ENGINE],
      useFactory: (engine: DistCacheEngine) => ({
        stores: [new Keyv({ store: new KeyvDistCache(engine, { keySpace: 'http' }) })],
        ttl: 60_000,
      }),
    }),
  ],
  controllers: [ItemsController, AdminController, ClusterController],
  providers: [Runs],
})
class HttpCacheModule {}

const app = await NestFactory.create(HttpCacheModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
process.send?.({ type: 'ready', url: await app.getUrl(), id: `127.0.0.1:${env('CACHE_PORT')}` });
