// A consistency checker for cache histories: every operation is recorded with the real-time
// interval in which it ran (invoked, completed), and reads are checked against the writes.
//
// The model: each key is a row of a database with a version. A write commits version v to the
// database and then puts v into the cache or deletes the key from the cache (cache-aside); a read
// returns the row through the cache. Versions of a key are committed in increasing order.
//
// A read R of key k that returned version v (written by W_v) is a violation when
//   - stale:         some write W of k completed before R was invoked, and W was invoked after W_v
//                    completed (W_v was superseded for certain before R began);
//   - never written: v was never written to k (or R found nothing, though every row exists);
//   - future:        W_v was invoked after R completed.
// Overlapping writes may complete in either order, so this does not require a read to return the
// highest version acknowledged; with one writer per key it does, which is exactly "a read never
// returns a version older than the latest write acknowledged before the read was invoked". A write
// that failed (error, timeout) has an unknown completion: it may be read, it supersedes nothing.
import { performance } from 'node:perf_hooks';

/**
 * One write: version `version` of `key` committed, then put into or deleted from the cache (`tags`:
 * removed by `deleteByTags` of a tag the key carries, which for the model is a delete).
 */
export interface WriteRecord {
  readonly key: string;
  readonly version: number;
  readonly node: string;
  readonly via: 'put' | 'delete' | 'tags' | 'initial';
  readonly invokedAt: number;
  /** Undefined when the write failed: its effect is unknown. */
  completedAt: number | undefined;
}

/** One read: the version it returned (undefined: nothing found), or the error it failed with. */
export interface ReadRecord {
  readonly key: string;
  readonly node: string;
  readonly invokedAt: number;
  completedAt: number;
  version: number | undefined;
  /** The error code when the read failed (not checked: availability, not consistency). */
  error: string | undefined;
}

export type ViolationKind = 'stale' | 'never-written' | 'future';

export interface Violation {
  readonly kind: ViolationKind;
  readonly read: ReadRecord;
  /** For `stale`: the earliest-completing write that superseded the version read. */
  readonly supersededBy?: WriteRecord;
  /**
   * For `stale`: how long before the read was invoked the version read had been superseded
   * (read.invokedAt - supersededBy.completedAt), in ms.
   */
  readonly stalenessMs?: number;
}

export interface CheckResult {
  readonly writes: number;
  readonly reads: number;
  /** Reads that failed with an error (not violations). */
  readonly failedReads: number;
  readonly failedWrites: number;
  readonly violations: readonly Violation[];
  /** Violations by kind. */
  readonly byKind: Readonly<Record<ViolationKind, number>>;
  /** The largest staleness of a stale read, in ms (0 when none). */
  readonly maxStalenessMs: number;
}

/** Records a history of reads and writes as they run. */
export class History {
  readonly writes: WriteRecord[] = [];
  readonly reads: ReadRecord[] = [];
  private readonly clock: () => number;

  constructor(clock: () => number = () => performance.now()) {
    this.clock = clock;
  }

  /** Records that `key` starts at `version` (written before anything else happened). */
  initial(key: string, version = 0): void {
    this.writes.push({
      key,
      version,
      node: '-',
      via: 'initial',
      invokedAt: -Infinity,
      completedAt: -Infinity,
    });
  }

  /**
   * Runs a write of `version` to `key` (the database commit and the cache call, both inside `run`)
   * and records its interval. Rethrows what `run` throws, after recording the write as failed.
   */
  async write(
    key: string,
    version: number,
    node: string,
    via: 'put' | 'delete' | 'tags',
    run: () => Promise<unknown>,
  ): Promise<void> {
    const record: WriteRecord = { key, version, node, via, invokedAt: this.clock(), completedAt: undefined };
    this.writes.push(record);
    await run();
    record.completedAt = this.clock();
  }

  /**
   * Runs a read of `key` and records its interval and the version it returned (`versionOf` maps
   * the value to its version, undefined for "nothing"). A failure is recorded, not rethrown.
   */
  async read<V>(
    key: string,
    node: string,
    run: () => Promise<V>,
    versionOf: (value: V) => number | undefined,
  ): Promise<void> {
    const record: ReadRecord = {
      key,
      node,
      invokedAt: this.clock(),
      completedAt: Number.NaN,
      version: undefined,
      error: undefined,
    };
    this.reads.push(record);
    try {
      record.version = versionOf(await run());
    } catch (error) {
      record.error = String((error as { code?: unknown } | undefined)?.code ?? error);
    }
    record.completedAt = this.clock();
  }

  /** Like {@link write} for a batch: one record per key, all with the batch's interval. */
  async writeMany(
    entries: ReadonlyArray<{ key: string; version: number }>,
    node: string,
    via: 'put' | 'delete',
    run: () => Promise<unknown>,
  ): Promise<void> {
    const invokedAt = this.clock();
    const records: WriteRecord[] = entries.map(({ key, version }) => ({
      key,
      version,
      node,
      via,
      invokedAt,
      completedAt: undefined,
    }));
    this.writes.push(...records);
    await run();
    const completedAt = this.clock();
    for (const record of records) record.completedAt = completedAt;
  }

  /** Like {@link read} for a batch read (`getMany`): one record per key, with the batch's interval. */
  async readMany<V>(
    keys: readonly string[],
    node: string,
    run: () => Promise<ReadonlyMap<string, V>>,
    versionOf: (key: string, value: V | undefined) => number | undefined,
  ): Promise<void> {
    const invokedAt = this.clock();
    const records: ReadRecord[] = keys.map((key) => ({
      key,
      node,
      invokedAt,
      completedAt: Number.NaN,
      version: undefined,
      error: undefined,
    }));
    this.reads.push(...records);
    try {
      const values = await run();
      for (const record of records) record.version = versionOf(record.key, values.get(record.key));
    } catch (error) {
      for (const record of records)
        record.error = String((error as { code?: unknown } | undefined)?.code ?? error);
    }
    const completedAt = this.clock();
    for (const record of records) record.completedAt = completedAt;
  }

  check(): CheckResult {
    return checkHistory(this.writes, this.reads);
  }
}

/** Checks reads against writes; see the top of this file for the rules. */
export function checkHistory(writes: readonly WriteRecord[], reads: readonly ReadRecord[]): CheckResult {
  const byKey = new Map<string, { byVersion: Map<number, WriteRecord>; acked: WriteRecord[] }>();
  for (const write of writes) {
    let entry = byKey.get(write.key);
    if (entry === undefined) {
      entry = { byVersion: new Map(), acked: [] };
      byKey.set(write.key, entry);
    }
    entry.byVersion.set(write.version, write);
    if (write.completedAt !== undefined) entry.acked.push(write);
  }
  for (const entry of byKey.values())
    entry.acked.sort((a, b) => (a.completedAt as number) - (b.completedAt as number));

  const violations: Violation[] = [];
  let failedReads = 0;
  for (const read of reads) {
    if (read.error !== undefined) {
      failedReads += 1;
      continue;
    }
    const entry = byKey.get(read.key);
    const source = read.version === undefined ? undefined : entry?.byVersion.get(read.version);
    if (entry === undefined || source === undefined) {
      violations.push({ kind: 'never-written', read });
      continue;
    }
    if (source.invokedAt > read.completedAt) {
      violations.push({ kind: 'future', read });
      continue;
    }
    const sourceDone = source.completedAt ?? Infinity;
    // The first acknowledged write (by completion) that began after the version read was complete.
    for (const later of entry.acked) {
      const laterDone = later.completedAt as number;
      if (laterDone >= read.invokedAt) break;
      if (later.invokedAt > sourceDone) {
        violations.push({
          kind: 'stale',
          read,
          supersededBy: later,
          stalenessMs: read.invokedAt - laterDone,
        });
        break;
      }
    }
  }
  const byKind = { stale: 0, 'never-written': 0, future: 0 };
  for (const violation of violations) byKind[violation.kind] += 1;
  return {
    writes: writes.filter((write) => write.via !== 'initial').length,
    reads: reads.length,
    failedReads,
    failedWrites: writes.filter((write) => write.completedAt === undefined).length,
    violations,
    byKind,
    maxStalenessMs: violations.reduce((max, violation) => Math.max(max, violation.stalenessMs ?? 0), 0),
  };
}

/** One line per violation (the first `limit`), for assertion messages. */
export function describeViolations(result: CheckResult, limit = 10): string {
  return result.violations
    .slice(0, limit)
    .map((violation) => {
      const { read } = violation;
      const what = `${read.node} read ${read.key} -> v${read.version ?? 'none'} in [${read.invokedAt.toFixed(1)}, ${read.completedAt.toFixed(1)}]`;
      if (violation.kind !== 'stale') return `${violation.kind}: ${what}`;
      const by = violation.supersededBy as WriteRecord;
      return `stale: ${what}, but v${by.version} (${by.via} on ${by.node}) was acknowledged at ${(by.completedAt as number).toFixed(1)}, ${violation.stalenessMs?.toFixed(1)} ms before`;
    })
    .join('\n');
}
