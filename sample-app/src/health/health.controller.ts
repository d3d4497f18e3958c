import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DistCacheHealthIndicator } from 'nestjs-distcache/terminus';
import { DatabaseHealthIndicator } from './database.health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly distcache: DistCacheHealthIndicator,
    private readonly database: DatabaseHealthIndicator,
  ) {}

  /** 200 when the engine runs and the database answers, 503 otherwise (Terminus format). */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.distcache.isHealthy('distcache'),
      () => this.database.isHealthy('database'),
    ]);
  }
}
