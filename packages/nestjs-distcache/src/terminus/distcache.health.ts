import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { type DistCacheEngine, peerProblems } from 'distcache-core';
import { DISTCACHE_ENGINE } from '../distcache.constants';

/** Options of {@link DistCacheHealthIndicator.isHealthy}. */
export interface DistCacheHealthOptions {
  /**
   * Members (this node included) needed for quorum; fewer reports `down`.
   * @default the engine's `clusterOptions.minMembers` (1 unless configured)
   */
  minMembers?: number;
  /**
   * Status when a keyspace's circuit breaker is open: the node still serves cached values, but a
   * data source is failing. `'degraded'` needs Terminus 12 and reads as `'up'` on Terminus 11.
   * With no breaker open, peers that are not members make the result `degraded` whatever this says.
   * @default 'degraded'
   */
  onOpenBreaker?: 'up' | 'degraded' | 'down';
}

/**
 * Terminus health indicator of the distcache engine, with the engine state, node and cluster
 * names, member count, quorum, peers by status, the keyspaces whose breaker is open and
 * `peerProblems`. The status, checked in this order:
 *
 * - `down` (so `HealthCheckService` answers 503) when the engine is not running or has fewer than
 *   `minMembers` members;
 * - with an open breaker, `onOpenBreaker` (`degraded` by default);
 * - `degraded` when a peer that discovery lists is not a member (`pending` or `left`) and a
 *   contact with it failed: `peerProblems` has one line per such peer with the reason, prefixed
 *   with its address unless the reason names it (see `peerProblems` of `distcache-core`);
 * - `up` otherwise.
 *
 * `degraded` needs Terminus 12; on Terminus 11 it reads `up`, with the message. Import the
 * indicator from `nestjs-distcache/terminus` and list it in the providers of the module that
 * imports `TerminusModule`.
 *
 * @example
 * ```ts
 * @Controller('health')
 * export class HealthController {
 *   constructor(
 *     private readonly health: HealthCheckService,
 *     private readonly distcache: DistCacheHealthIndicator,
 *   ) {}
 *
 *   @Get()
 *   @HealthCheck()
 *   check() {
 *     return this.health.check([() => this.distcache.isHealthy('distcache')]);
 *   }
 * }
 * ```
 */
@Injectable()
export class DistCacheHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(DISTCACHE_ENGINE) private readonly engine: DistCacheEngine,
  ) {}

  /** Reports the engine's health under `key`. Never throws: a broken engine is a `down` result. */
  isHealthy<const Key extends string = 'distcache'>(
    key: Key = 'distcache' as Key,
    options: DistCacheHealthOptions = {},
  ): HealthIndicatorResult<Key> {
    const session = this.indicators.check(key);
    const { engine } = this;
    const stats = engine.stats();
    const minMembers = options.minMembers ?? engine.options.clusterOptions.minMembers;
    const peers: Record<string, number> = {};
    const listed = engine.peers();
    for (const peer of listed) peers[peer.status] = (peers[peer.status] ?? 0) + 1;
    // Listed peers that are not members, and why (another cluster name, not listing this node...).
    const problems = peerProblems(listed);
    const openBreakers = Object.entries(stats.keySpaces)
      .filter(([, space]) => space.breaker === 'open')
      .map(([name]) => name);
    const details = {
      state: stats.state,
      nodeName: stats.nodeName,
      cluster: stats.cluster,
      members: stats.members,
      minMembers,
      quorum: stats.members >= minMembers,
      peers,
      openBreakers,
      peerProblems: problems,
    };
    if (stats.state !== 'running') return session.down({ ...details, message: `engine is ${stats.state}` });
    if (!details.quorum) {
      return session.down({ ...details, message: `${stats.members} of ${minMembers} members needed` });
    }
    if (openBreakers.length === 0 && problems.length === 0) return session.up(details);
    if (openBreakers.length === 0) {
      const message = `peers not in the cluster: ${problems.join('; ')}`;
      return typeof session.degraded === 'function'
        ? session.degraded({ ...details, message })
        : session.up({ ...details, message });
    }
    const message = `circuit breaker open: ${openBreakers.join(', ')}`;
    switch (options.onOpenBreaker ?? 'degraded') {
      case 'up':
        return session.up(details);
      case 'down':
        return session.down({ ...details, message });
      case 'degraded':
        // Terminus 11 has no degraded status; there the node reports up with the message.
        return typeof session.degraded === 'function'
          ? session.degraded({ ...details, message })
          : session.up({ ...details, message });
    }
  }
}
