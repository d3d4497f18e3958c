import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { staticDiscovery } from 'distcache-core';
import { natsDiscovery } from 'distcache-core/nats';
import { DistCacheModule } from 'nestjs-distcache';
import { DistCacheHealthIndicator } from 'nestjs-distcache/terminus';
import { type AppConfig, validateEnv } from './config/app.config.js';
import { DashboardService } from './dashboard/dashboard.service.js';
import { DatabaseModule } from './database/database.module.js';
import { DatabaseHealthIndicator } from './health/database.health.js';
import { HealthController } from './health/health.controller.js';
import { CacheErrorsFilter } from './http/cache-errors.filter.js';
import { DataSourceCounter } from './products/data-source.counter.js';
import { ProductsController } from './products/products.controller.js';
import { ProductsRepository } from './products/products.repository.js';
import { ProductsService } from './products/products.service.js';
import { ProductsSource } from './products/products.source.js';
import { StatsController } from './stats/stats.controller.js';

@Module({
  imports: [
    // Configuration comes from the environment only, validated once (see app.config.ts).
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validate: validateEnv }),
    DatabaseModule,
    DistCacheModule.forRootAsync({
      isGlobal: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => ({
        nodeName: config.get('nodeName', { infer: true }),
        cluster: config.get('cluster', { infer: true }),
        host: config.get('cacheHost', { infer: true }),
        port: config.get('cachePort', { infer: true }),
        // Static: the peer list from CACHE_PEERS. NATS: the replicas announce themselves on the
        // server(s) of NATS_URL, under the cluster name (npm start -- --nats).
        discovery:
          config.get('cacheDiscovery', { infer: true }) === 'nats'
            ? natsDiscovery({
                servers: config.get('natsServers', { infer: true }),
                cluster: config.get('cluster', { infer: true }),
              })
            : staticDiscovery({ peers: config.get('cachePeers', { infer: true }) }),
        keySpaceDefaults: {
          ttl: config.get('cacheTtl', { infer: true }),
          maxBytes: config.get('cacheMaxBytes', { infer: true }),
        },
      }),
    }),
    TerminusModule,
  ],
  controllers: [ProductsController, HealthController, StatsController],
  providers: [
    ProductsRepository,
    ProductsSource,
    ProductsService,
    DataSourceCounter,
    DashboardService,
    DistCacheHealthIndicator,
    DatabaseHealthIndicator,
    { provide: APP_FILTER, useClass: CacheErrorsFilter },
  ],
})
export class AppModule {}
