import { Injectable } from '@nestjs/common';

/** Counters of this node's database work on behalf of the cache. */
export interface DataSourceCounts {
  /** SQL statements the cache's data sources ran on this node. */
  queries: number;
  /** Product rows they read (a batch query of 20 ids counts 20). */
  productRows: number;
  /** Writes (PUT) this node ran. */
  writes: number;
}

/** Counts what the data sources do, so `/stats` can show the effect of the cache. */
@Injectable()
export class DataSourceCounter {
  private readonly counts: DataSourceCounts = { queries: 0, productRows: 0, writes: 0 };

  query(productRows = 0): void {
    this.counts.queries += 1;
    this.counts.productRows += productRows;
  }

  write(): void {
    this.counts.writes += 1;
  }

  snapshot(): DataSourceCounts {
    return { ...this.counts };
  }
}
