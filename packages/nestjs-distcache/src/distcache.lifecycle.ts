import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DistCacheEngine } from 'distcache-core';
import { DISTCACHE_ENGINE } from './distcache.constants';

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
  private readonly logger = new Logger('DistCache');

  constructor(@Inject(DISTCACHE_ENGINE) private readonly engine: DistCacheEngine) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.start();
    const self = this.engine.peers()[0];
    this.logger.log(
      `node ${this.engine.options.nodeName} running in cluster "${this.engine.options.cluster}"` +
        (self === undefined ? '' : ` at ${self.id}`) +
        ` with keyspaces: ${this.engine.keySpaces().join(', ') || '(none)'}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.engine.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.engine.stop();
  }
}
