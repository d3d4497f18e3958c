// Figures of a fault-injection run, from the driver's records, and the report file they go to
// (reports/faults.json, one entry per scenario; docs/reliability.md's table is made from it).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpRecord } from './load-driver';

export interface StaleRead {
  node: string;
  key: string;
  phase: string;
  version: number | undefined;
  floor: number;
  /** ms after the start of the run. */
  at: number;
}

export interface Figures {
  requests: number;
  gets: number;
  writes: number;
  /** Requests that ended with an error, by `phase:kind:code` (interrupted ones excluded). */
  failures: Record<string, number>;
  failedRequests: number;
  failedGets: number;
  /** Requests in a node that was frozen, killed or stopped under them (not counted as failures). */
  interrupted: number;
  /** Requests that took longer than their timeout plus the margin, measured inside the node. */
  overTimeout: number;
  /** Slowest request measured inside the node, interrupted ones excluded (ms). */
  maxNodeMs: number;
  /** p99 of gets measured inside the node (ms). */
  p99GetMs: number;
  /** Gets that returned a version older than one acknowledged while the reader was reachable. */
  staleReads: number;
  /** Gets older than a write acknowledged while the reader was cut off from the writer. */
  cutOffStaleReads: number;
  staleDetails: StaleRead[];
  cutOffDetails: StaleRead[];
  /** Gets per phase: count, failed, p99 and max measured inside the node (ms). */
  phases: Record<string, { gets: number; failed: number; p99Ms: number; maxMs: number }>;
}

/** A span of `performance.now()` time during which a fault may make requests fail. */
export type FaultWindow = readonly [from: number, to: number];

/**
 * Failed requests (interrupted ones aside) that did not overlap any fault window or whose code
 * is not allowed, as `phase:kind:code @ms` labels. Empty when every failure is explained.
 */
export function unexplainedFailures(
  records: readonly OpRecord[],
  windows: readonly FaultWindow[],
  codes: RegExp,
  startedAt: number,
): string[] {
  return records
    .filter((record) => record.error !== undefined && record.interrupted === undefined)
    .filter(
      (record) =>
        !codes.test(record.error!) ||
        !windows.some(([from, to]) => record.sentAt <= to && record.answeredAt >= from),
    )
    .map(
      (record) =>
        `${record.phase}:${record.kind}:${record.error} @${Math.round(record.sentAt - startedAt)}ms`,
    );
}

export function summarize(
  records: readonly OpRecord[],
  timeoutMs: number,
  marginMs: number,
  startedAt: number,
): Figures {
  const failures: Record<string, number> = {};
  let failedRequests = 0;
  let failedGets = 0;
  let interrupted = 0;
  let overTimeout = 0;
  let maxNodeMs = 0;
  const getMs: number[] = [];
  const staleDetails: StaleRead[] = [];
  const cutOffDetails: StaleRead[] = [];
  for (const record of records) {
    if (record.interrupted !== undefined) {
      interrupted += 1;
      continue;
    }
    if (record.nodeMs !== undefined) {
      maxNodeMs = Math.max(maxNodeMs, record.nodeMs);
      if (record.nodeMs > timeoutMs + marginMs) overTimeout += 1;
      if (record.kind === 'get') getMs.push(record.nodeMs);
    }
    if (record.error !== undefined) {
      failedRequests += 1;
      if (record.kind === 'get') failedGets += 1;
      const label = `${record.phase}:${record.kind}:${record.error}`;
      failures[label] = (failures[label] ?? 0) + 1;
      continue;
    }
    if (record.kind !== 'get') continue;
    const version = record.version ?? -1;
    const detail = (): StaleRead => ({
      node: record.node,
      key: record.key,
      phase: record.phase,
      version: record.version,
      floor: record.floor,
      at: Math.round(record.sentAt - startedAt),
    });
    if (version < record.reachableFloor) staleDetails.push(detail());
    else if (version < record.floor) cutOffDetails.push(detail());
  }
  getMs.sort((a, b) => a - b);
  const phases: Figures['phases'] = {};
  for (const phase of new Set(records.map((record) => record.phase))) {
    const gets = records.filter(
      (record) => record.phase === phase && record.kind === 'get' && record.interrupted === undefined,
    );
    const ms = gets
      .map((record) => record.nodeMs)
      .filter((value): value is number => value !== undefined)
      .sort((a, b) => a - b);
    phases[phase] = {
      gets: gets.length,
      failed: gets.filter((record) => record.error !== undefined).length,
      p99Ms: Math.round(ms[Math.floor(ms.length * 0.99)] ?? 0),
      maxMs: Math.round(ms[ms.length - 1] ?? 0),
    };
  }
  return {
    requests: records.length,
    gets: records.filter((record) => record.kind === 'get').length,
    writes: records.filter((record) => record.kind !== 'get').length,
    failures,
    failedRequests,
    failedGets,
    interrupted,
    overTimeout,
    maxNodeMs: Math.round(maxNodeMs),
    p99GetMs: Math.round(getMs[Math.floor(getMs.length * 0.99)] ?? 0),
    staleReads: staleDetails.length,
    cutOffStaleReads: cutOffDetails.length,
    staleDetails: staleDetails.slice(0, 20),
    cutOffDetails: cutOffDetails.slice(0, 20),
    phases,
  };
}

const REPORT = join(import.meta.dirname, '..', '..', 'reports', 'faults.json');

/** Prints the scenario's figures and merges them into reports/faults.json. */
export function report(scenario: string, figures: Record<string, unknown>): void {
  console.log(`fault injection: ${scenario}: ${JSON.stringify(figures)}`);
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(REPORT, 'utf8')) as Record<string, unknown>;
  } catch {
    // First scenario of the run, or an unreadable file: start over.
  }
  all[scenario] = { ...figures, recordedAt: new Date().toISOString() };
  mkdirSync(join(REPORT, '..'), { recursive: true });
  writeFileSync(REPORT, `${JSON.stringify(all, null, 2)}\n`);
}
