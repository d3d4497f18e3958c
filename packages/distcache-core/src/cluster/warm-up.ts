import type { ClusterCoordinator } from './coordinator';
import type { KeySpace } from '../keyspace/keyspace';
import type { Clock } from '../util/clock';
import { wireInstant } from '../transport/wire-format';
import type { Logger } from '../util/logger';
import type { PeerEvent } from './peer-event';
import { checkKey } from '../keyspace/key-check';
import { unpack } from '../keyspace/packed-bytes';

export interface WarmUpDeps {
  readonly spaces: ReadonlyMap<string, KeySpace>;
  /** Warm keys over the engine's key limit are skipped, as a caller's would be refused. */
  readonly maxKeyBytes: number;
  readonly coordinator: ClusterCoordinator;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Loads and hand-offs running at once per keyspace. @default 8 */
  readonly concurrency?: number;
  /** Popular keys per keyspace considered when ownership moves. @default 200 */
  readonly hotLimit?: number;
}

/** How long a peer back from a silence gets no hand-offs (longer than a partition's heal takes). */
const NO_HAND_OFF_MS = 60_000;

/**
 * Keeps the cache warm around start-up and topology changes:
 * - at start, each node loads the keyspace's `warmKeys` it owns;
 * - when members join or leave, each node looks at the keys that are hot on it (and the warm
 *   keys): a key it now owns is taken from its hot copy or loaded ahead of demand; a key it held as
 *   owner but that moved is handed to the new owner (a SET that never replaces a newer value), so
 *   a joining node has the popular keys before its first request;
 * - `refreshAhead`: the owner reloads its popular keys shortly before they expire.
 * Every step runs with bounded concurrency; failures are logged and counted, never thrown.
 */
export class WarmUp {
  private rebalanceTimer: unknown;
  private refreshTimer: unknown;
  private stopped = false;
  /** Rebalancing starts after the warm start: during start-up the ring is still forming. */
  private active = false;
  /**
   * Peers that rejoined after a silence, until when nothing is handed to them: for a while, not
   * for one rebalance, since a second peer coming back a moment later rebalances again.
   */
  private readonly noHandOff = new Map<string, number>();

  constructor(private readonly deps: WarmUpDeps) {}

  /** Loads the warm keys this node owns. Resolves when done (failures only logged). */
  async warmStart(): Promise<void> {
    await Promise.all(
      [...this.deps.spaces.values()].map(async (space) => {
        const keys = await this.warmKeysOf(space);
        const owned = keys.filter((key) => this.deps.coordinator.ownerOf(space.name, key) === undefined);
        await this.bounded(owned, (key) =>
          space.holdsOrLoads(key) ? Promise.resolve() : space.loadEntry(key),
        );
      }),
    );
    this.active = true;
  }

  /**
   * Schedules a rebalance (collapsing bursts of membership events into one). A peer that rejoins
   * after a silence or a missed invalidation (`afterSilence`) gets no hand-offs: after a partition
   * or a slow link both sides wrote, and a SET-if-absent cannot tell the newer value (measured:
   * stale reads after a heal in test/reliability/faults.spec.ts "partition" and "slow peer" until
   * this rule); it loads what it owns on demand. A receiver also refuses a hand-off over a key it
   * removed lately (`KeySpace.refusesHandOff`).
   */
  scheduleRebalance(event?: PeerEvent): void {
    if (event?.type === 'joined' && event.afterSilence === true)
      this.noHandOff.set(event.peer.id, this.deps.clock.now() + NO_HAND_OFF_MS);
    if (this.stopped || !this.active) return;
    this.deps.clock.clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = this.deps.clock.setTimeout(() => void this.rebalance(), 0);
  }

  /** Starts the periodic refresh-ahead check, when any keyspace asks for it. */
  startRefreshAhead(intervalMs = 1_000): void {
    if (this.stopped) return;
    this.refreshTimer = this.deps.clock.setTimeout(() => {
      void this.refreshAhead().finally(() => this.startRefreshAhead(intervalMs));
    }, intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.deps.clock.clearTimeout(this.rebalanceTimer);
    this.deps.clock.clearTimeout(this.refreshTimer);
  }

  /** Moves popular keys to where they now belong. */
  async rebalance(): Promise<void> {
    if (this.stopped) return;
    const { coordinator } = this.deps;
    const now = this.deps.clock.now();
    for (const [peer, until] of this.noHandOff) if (until <= now) this.noHandOff.delete(peer);
    const noHandOff = new Set(this.noHandOff.keys());
    await Promise.all(
      [...this.deps.spaces.values()].map(async (space) => {
        const candidates = new Set([...this.popularKeysOf(space), ...(await this.warmKeysOf(space))]);
        await this.bounded([...candidates], async (key) => {
          const owner = coordinator.ownerOf(space.name, key);
          if (owner === undefined) {
            if (space.holdsOrLoads(key) || space.promoteHot(key)) return;
            await space.loadEntry(key);
            return;
          }
          const held = space.storage.peek(key);
          if (held === undefined || noHandOff.has(owner.id)) return;
          const bytes = space.wireBytes(key, held);
          if (bytes === undefined) return;
          const response = await coordinator.send(
            owner,
            {
              op: 'set',
              keySpace: space.name,
              key,
              value: unpack(bytes),
              expiresAt: Number.isFinite(held.freshUntil) ? wireInstant(held.freshUntil) : 0,
              ifAbsent: true,
              notAfter: wireInstant(this.deps.clock.now() + space.config.writeTimeoutMs),
              // Tags move with the value, so the new owner's copy is revoked by them too.
              ...(held.tags === undefined ? {} : { tags: held.tags }),
            },
            { timeoutMs: space.config.writeTimeoutMs },
          );
          if (response.op !== 'ok') return;
          if (space.storage.peek(key) === held) {
            space.storage.delete(key);
            return;
          }
          // The key was written while the copy was on its way, and that write's invalidation (or a
          // replay) may have reached the new owner before the copy did: the new owner drops it.
          // Same connection as the hand-off, so this arrives after it.
          await coordinator.send(
            owner,
            { op: 'invalidate', keySpace: space.name, keys: [key] },
            { timeoutMs: space.config.writeTimeoutMs },
          );
        });
      }),
    );
  }

  /** Reloads popular keys this node owns that expire within their keyspace's `refreshAhead`. */
  async refreshAhead(): Promise<void> {
    const now = this.deps.clock.now();
    await Promise.all(
      [...this.deps.spaces.values()].map((space) => {
        const window = space.config.refreshAheadMs;
        if (window === undefined) return Promise.resolve();
        const due = this.popularKeysOf(space).filter((key) => {
          if (this.deps.coordinator.ownerOf(space.name, key) !== undefined) return false;
          const entry = space.storage.peek(key);
          return entry !== undefined && entry.found && entry.freshUntil - now <= window;
        });
        return this.bounded(due, (key) => space.loadEntry(key));
      }),
    );
  }

  private popularKeysOf(space: KeySpace): string[] {
    return (space.popularKeys?.top(this.deps.hotLimit ?? 200, this.deps.clock.now()) ?? []).map(
      ([key]) => key,
    );
  }

  private async warmKeysOf(space: KeySpace): Promise<readonly string[]> {
    const source = space.config.warmKeys;
    if (source === undefined) return [];
    let keys: unknown;
    try {
      keys = typeof source === 'function' ? await source() : source;
      if (!Array.isArray(keys)) throw new TypeError('warmKeys() did not return an array');
    } catch (error) {
      this.deps.logger.warn('warm keys could not be listed', { keySpace: space.name, error: String(error) });
      return [];
    }
    return (keys as unknown[]).filter((key): key is string => {
      try {
        checkKey(space.name, key, this.deps.maxKeyBytes);
        return true;
      } catch (error) {
        this.deps.logger.warn('warm key skipped', { keySpace: space.name, error: String(error) });
        return false;
      }
    });
  }

  /** Runs `work` over `items`, `concurrency` at a time; failures are logged and skipped. */
  private async bounded(items: readonly string[], work: (item: string) => Promise<unknown>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length && !this.stopped) {
        const item = items[next++] as string;
        try {
          await work(item);
        } catch (error) {
          this.deps.logger.debug('warm-up step failed', { key: item, error: String(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 8, items.length) }, worker));
  }
}
