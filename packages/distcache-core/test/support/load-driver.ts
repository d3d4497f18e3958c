// Steady open-loop load on a FaultCluster: gets, puts and deletes at fixed rates, each sent over
// IPC to a node that is up, each timed inside the node and recorded with its outcome and the
// version it returned, so a test can count failures, requests over the timeout and stale reads.
import type { FaultCluster, FaultNode, Versioned, VersionedDatabase } from './fault-cluster';
import { seededRandom } from './random.mjs';

export interface LoadOptions {
  keys: readonly string[];
  readsPerSecond: number;
  writesPerSecond: number;
  /** Share of writes that delete instead of put. @default 0.3 */
  deleteShare?: number;
  seed?: number;
}

/** One request as the driver saw it. */
export interface OpRecord {
  readonly kind: 'get' | 'put' | 'delete';
  readonly node: string;
  readonly key: string;
  readonly phase: string;
  /** `performance.now()` when sent and when answered, in this process. */
  readonly sentAt: number;
  answeredAt: number;
  /** Duration measured inside the node (IPC excluded). */
  nodeMs: number | undefined;
  error: string | undefined;
  /** Version a get returned. */
  version: number | undefined;
  /** Version written (puts and deletes). */
  written: number | undefined;
  /** The highest version acknowledged before the get was sent, and the same counting only
   * writes acknowledged while the reader was reachable from the writer. */
  floor: number;
  reachableFloor: number;
  /** The node froze, died or stopped while the request was in it: not a failure of the cluster. */
  interrupted: string | undefined;
}

interface Ack {
  readonly version: number;
  readonly at: number;
  readonly writer: string;
  /** Nodes an invalidation from the writer could not reach when the write was acknowledged. */
  readonly cutOff: ReadonlySet<string>;
}

export class LoadDriver {
  readonly records: OpRecord[] = [];
  private readonly acks = new Map<string, Ack[]>();
  private readonly writing = new Set<string>();
  private readonly inFlight = new Map<string, Set<{ record: OpRecord; done: Promise<void> }>>();
  private readonly random: () => number;
  private timers: NodeJS.Timeout[] = [];
  private phaseName = 'before';
  /**
   * Which nodes an invalidation sent by `writer` cannot reach now (frozen, on the other side of a
   * partition, not yet rejoined). Set by the scenario from its fault schedule.
   */
  cutOffFrom: (writer: string) => ReadonlySet<string> = () => new Set();

  constructor(
    private readonly cluster: FaultCluster,
    private readonly database: VersionedDatabase,
    private readonly options: LoadOptions,
  ) {
    this.random = seededRandom(options.seed ?? 10);
  }

  get phase(): string {
    return this.phaseName;
  }

  /** Labels the requests sent from now on. */
  setPhase(name: string): void {
    this.phaseName = name;
  }

  start(): void {
    const every = (perSecond: number, issue: () => void): void => {
      if (perSecond <= 0) return;
      // Ticks of at least 10 ms, several requests per tick at high rates.
      const tickMs = Math.max(10, 1_000 / perSecond);
      const perTick = (perSecond * tickMs) / 1_000;
      let owed = 0;
      const started = performance.now();
      let ticks = 0;
      const tick = (): void => {
        ticks += 1;
        owed += perTick;
        for (; owed >= 1; owed -= 1) issue();
        // Re-aimed at the schedule, so a late tick does not lower the rate.
        const next = started + (ticks + 1) * tickMs - performance.now();
        this.timers.push(setTimeout(tick, Math.max(0, next)));
      };
      this.timers.push(setTimeout(tick, tickMs));
    };
    every(this.options.readsPerSecond, () => this.read());
    every(this.options.writesPerSecond, () => this.write());
  }

  /** Stops sending and waits for every request in flight (frozen nodes must be thawed first). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    await Promise.all([...this.inFlight.values()].flatMap((set) => [...set].map((entry) => entry.done)));
  }

  /**
   * Stops sending to `node` (it is about to stop) and waits for its requests in flight, as a load
   * balancer drains an instance before a rolling restart.
   */
  async drain(node: FaultNode): Promise<void> {
    node.state = 'stopping';
    await Promise.all([...(this.inFlight.get(node.name) ?? [])].map((entry) => entry.done));
  }

  /** Marks the requests in `node` now as interrupted (call right before freezing or killing it). */
  interrupt(node: string, why: string): void {
    for (const entry of this.inFlight.get(node) ?? []) entry.record.interrupted ??= why;
  }

  /** The highest version acknowledged so far, and the same counting only writes `reader` could see. */
  private floors(key: string, reader: string): [floor: number, reachable: number] {
    let floor = 0;
    let reachable = 0;
    for (const ack of this.acks.get(key) ?? []) {
      floor = Math.max(floor, ack.version);
      if (!ack.cutOff.has(reader)) reachable = Math.max(reachable, ack.version);
    }
    return [floor, reachable];
  }

  private pickNode(): FaultNode | undefined {
    const up = this.cluster.up();
    return up[Math.floor(this.random() * up.length)];
  }

  private pickKey(): string {
    const { keys } = this.options;
    return keys[Math.floor(this.random() * keys.length)] as string;
  }

  private read(): void {
    const node = this.pickNode();
    if (node === undefined) return;
    const key = this.pickKey();
    const [floor, reachableFloor] = this.floors(key, node.name);
    const record = this.record('get', node, key, floor, reachableFloor);
    this.send(node, record, { op: 'get', key }, (value) => {
      record.version = (value as Versioned | undefined)?.version;
    });
  }

  private write(): void {
    const node = this.pickNode();
    if (node === undefined) return;
    const key = this.pickKey();
    // One write per key at a time, so versions are acknowledged in order.
    if (this.writing.has(key)) return;
    this.writing.add(key);
    const row = this.database.bump(key);
    const kind = this.random() < (this.options.deleteShare ?? 0.3) ? 'delete' : 'put';
    const record = this.record(kind, node, key, 0, 0);
    record.written = row.version;
    this.send(
      node,
      record,
      kind === 'put' ? { op: 'put', key, value: row } : { op: 'delete', key },
      () => {
        const acks = this.acks.get(key) ?? [];
        acks.push({
          version: row.version,
          at: record.answeredAt,
          writer: node.name,
          cutOff: this.cutOffFrom(node.name),
        });
        this.acks.set(key, acks);
      },
      () => this.writing.delete(key),
    );
  }

  private record(
    kind: OpRecord['kind'],
    node: FaultNode,
    key: string,
    floor: number,
    reachableFloor: number,
  ): OpRecord {
    const record: OpRecord = {
      kind,
      node: node.name,
      key,
      phase: this.phaseName,
      sentAt: performance.now(),
      answeredAt: Number.NaN,
      nodeMs: undefined,
      error: undefined,
      version: undefined,
      written: undefined,
      floor,
      reachableFloor,
      interrupted: undefined,
    };
    this.records.push(record);
    return record;
  }

  private send(
    node: FaultNode,
    record: OpRecord,
    command: Record<string, unknown>,
    onSuccess: (value: unknown) => void,
    onSettled?: () => void,
  ): void {
    const set = this.inFlight.get(node.name) ?? new Set();
    this.inFlight.set(node.name, set);
    const done = node.process
      .call<{ ms: number; value?: unknown; error?: { code: string } }>('timed', command, 30_000)
      .then(
        (answer) => {
          record.answeredAt = performance.now();
          record.nodeMs = answer.ms;
          if (answer.error !== undefined) record.error = answer.error.code;
          else onSuccess(answer.value);
        },
        (error: { code?: string }) => {
          record.answeredAt = performance.now();
          record.error = error.code ?? 'E_IPC';
          record.interrupted ??= error.code === 'E_CHILD_EXITED' ? 'exited' : undefined;
        },
      )
      .finally(() => {
        set.delete(entry);
        onSettled?.();
      });
    const entry = { record, done };
    set.add(entry);
  }
}
