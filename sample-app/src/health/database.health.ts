import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ProductsRepository } from '../products/products.repository.js';

/** Terminus indicator: the database answers `SELECT 1` within 2 s. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly products: ProductsRepository,
  ) {}

  async isHealthy(key = 'database') {
    const indicator = this.health.check(key);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.products.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer in 2 s')), 2_000))),
      ]);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
