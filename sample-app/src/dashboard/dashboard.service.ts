import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { DistCacheEngine } from 'distcache-core';
import { InjectDistCacheEngine } from 'nestjs-distcache';
import type { AppConfig } from '../config/app.config.js';

interface AdminServerLike {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  readonly url: string | undefined;
}
type AdminModule = { adminServer(engine: DistCacheEngine, options: { port: number }): AdminServerLike };

/**
 * The engine's admin server (JSON endpoints and the live dashboard of `distcache-core/admin`) on
 * ADMIN_PORT, when set. Loaded lazily so the service runs with a core that has no admin entry.
 */
@Injectable()
export class DashboardService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Dashboard');
  private server: AdminServerLike | undefined;

  constructor(
    @InjectDistCacheEngine() private readonly engine: DistCacheEngine,
    @Inject(ConfigService) private readonly config: ConfigService<AppConfig, true>,
  ) {}

  get url(): string | undefined {
    return this.server?.url;
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.get('adminPort', { infer: true });
    if (port === undefined) return;
    let admin: AdminModule;
    try {
      admin = await import('distcache-core/admin');
    } catch {
      this.logger.warn('distcache-core/admin is not available; no dashboard');
      return;
    }
    const server = admin.adminServer(this.engine, { port });
    await server.start();
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server?.stop();
  }
}
