import { Controller, Get } from '@nestjs/common';
import { DistCacheService } from 'nestjs-distcache';
import { DashboardService } from '../dashboard/dashboard.service.js';
import { DataSourceCounter, type DataSourceCounts } from '../products/data-source.counter.js';

interface KeySpaceSummary {
  gets: number;
  hits: number;
  misses: number;
  hitRatio: number;
  hotHits: number;
  peerLoads: number;
  loads: number;
  loadErrors: number;
  items: number;
  bytes: number;
}

export interface StatsView {
  node: string;
  cluster: string;
  state: string;
  members: number;
  dashboard: string | null;
  /** This node's database work for the cache: the number to watch. */
  dataSource: DataSourceCounts;
  cache: Record<string, KeySpaceSummary>;
}

@Controller('stats')
export class StatsController {
  constructor(
    private readonly cache: DistCacheService,
    private readonly counter: DataSourceCounter,
    private readonly dashboard: DashboardService,
  ) {}

  @Get()
  stats(): StatsView {
    const stats = this.cache.stats();
    const cache: Record<string, KeySpaceSummary> = {};
    for (const [name, ks] of Object.entries(stats.keySpaces)) {
      cache[name] = {
        gets: ks.gets,
        hits: ks.hits,
        misses: ks.misses,
        hitRatio: ks.gets === 0 ? 0 : ks.hits / ks.gets,
        hotHits: ks.hotHits,
        peerLoads: ks.peerLoads,
        loads: ks.loads,
        loadErrors: ks.loadErrors,
        items: ks.items,
        bytes: ks.bytes,
      };
    }
    return {
      node: stats.nodeName,
      cluster: stats.cluster,
      state: stats.state,
      members: stats.members,
      dashboard: this.dashboard.url ?? null,
      dataSource: this.counter.snapshot(),
      cache,
    };
  }
}
