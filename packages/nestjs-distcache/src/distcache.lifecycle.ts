import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type DistCacheEngine, isStandalone } from 'distcache-core';
import { DISTCACHE_ENGINE, DISTCACHE_MODULE_OPTIONS } from './distcache.constants';
import type { DistCacheModuleOptions } from './distcache.options';

/** Options that only configure the peer listener and its connections. */
const LISTENER_OPTIONS = ['host', 'port', 'advertiseHost', 'tls'] as const;

/**
 * Starts the engine once every module is initialised (keyspaces from decorators are registered by
 * then) and makes it leave the cluster on shutdown. Leaving happens in `beforeApplicationShutdown`,
 * before the HTTP server drains: peers drop this node at once and stop routing keys to it, and
 * requests still being served here fall through to their methods. Stop is idempotent, so the
 * second hook is a safety net for contexts without the first.
 */
@Injectable()
export class DistCacheLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  constructor(
    @Inject(DISTCACHE_ENGINE) private readonly engine: DistCacheEngine,
    @Inject(DISTCACHE_MODULE_OPTIONS) private readonly options: DistCacheModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.start();
    const { nodeName, cluster, discovery, logger } = this.engine.options;
    const keySpaces = `with keyspaces: ${this.engine.keySpaces().join(', ') || '(none)'}`;
    if (!isStandalone(discovery)) {
      const self = this.engine.peers()[0];
      const at = self === undefined ? '' : ` at ${self.id}`;
      logger.info(`node ${nodeName} running in cluster "${cluster}"${at} ${keySpaces}`);
      return;
    }
    logger.info(
      `node ${nodeName} running standalone (no discovery): no peer listener, this replica caches for ` +
        `itself only, ${keySpaces}`,
    );
    const ignored = LISTENER_OPTIONS.filter((name) => this.options[name] !== undefined);
    if (ignored.length > 0) {
      logger.warn(
        `${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored: without discovery this node ` +
          'is standalone and opens no peer listener. Give discovery (staticDiscovery({ peers }), DNS, NATS ' +
          'or Kubernetes) to make this replica a cluster member',
      );
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.engine.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.stop();
  }
}
