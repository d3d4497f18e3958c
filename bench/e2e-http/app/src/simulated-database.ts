import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { INSTANCE_CONFIG, type InstanceConfig } from './config.js';
import { makeProduct, type Product } from './product.js';

/**
 * The data source of every variant: an in-process stand-in for a database query with a fixed
 * latency (a timer, so it costs no CPU), counting its calls so the bench can compare what each
 * cache saves.
 */
@Injectable()
export class SimulatedDatabase {
  private calls = 0;

  constructor(@Inject(INSTANCE_CONFIG) private readonly config: InstanceConfig) {}

  /** Calls made so far on this instance. */
  get callCount(): number {
    return this.calls;
  }

  /** The product with this id, `undefined` when there is none. */
  async findProduct(id: string): Promise<Product | undefined> {
    this.calls += 1;
    await sleep(this.config.sourceMs);
    const index = Number(id);
    return Number.isInteger(index) && index >= 1 && index <= this.config.products
      ? makeProduct(index)
      : undefined;
  }
}
