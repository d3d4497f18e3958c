import { DistCacheError } from '../errors/distcache-error';
import { failureAnswer } from '../errors/remote-error';
import type { CacheEntry } from '../keyspace/cache-entry';
import { engineStopped, invalidValue, keySpaceNotFound, lateWrite } from '../errors/messages';
import type { KeySpace } from '../keyspace/keyspace';
import type {
  KeyErrorResult,
  KeyResult,
  PeerIdentity,
  PeerReply,
  PeerRequest,
  PeerRequestHandler,
  WireBytes,
} from '../transport/transport';
import type { Clock } from '../util/clock';
import { checkKey } from '../keyspace/key-check';
import { normalizeTags } from '../keyspace/tag-versions';
import { toValueResult } from './wire-entry';
import { senderId } from './peer-state';

/** What serving peers needs from the engine. */
export interface PeerHandlerDeps {
  readonly nodeName: string;
  readonly clock: Clock;
  /** The engine's key limit: a peer's keys are held to it like a caller's. */
  readonly maxKeyBytes: number;
  readonly spaces: ReadonlyMap<string, KeySpace>;
  /** False once the engine is stopping: pings fail so peers stop routing here. */
  readonly accepting: () => boolean;
  /** Removes a keyspace locally (a peer deleted it cluster-wide). */
  readonly dropKeySpace: (name: string) => void;
  /**
   * After a peer's write (not a hand-off), before it is acknowledged: drops, everywhere but at the
   * writer, the keys this node's ring says another node owns (`ClusterWrites.dropElsewhere`).
   * Absent on a standalone node.
   */
  readonly dropElsewhere?: (
    space: KeySpace,
    keys: readonly string[],
    writerId: string,
    budgetMs?: number,
  ) => Promise<void>;
}

/**
 * Serves requests from other nodes. A request from a peer is never forwarded: this node answers
 * from its storage or loads the key itself, whatever its own ring says, so two nodes whose rings
 * disagree during a topology change cannot bounce a request between them.
 */
export function createPeerRequestHandler(deps: PeerHandlerDeps): PeerRequestHandler {
  const space = (name: string): KeySpace => {
    const found = deps.spaces.get(name);
    if (found === undefined) throw keySpaceNotFound(name);
    found.countPeerRequest();
    return found;
  };
  // A key from a peer gets the checks a caller's key gets (E_INVALID_KEY), before it reaches the
  // data source, the storage or the popular-key tracker: the frame limit alone would let an 8 MiB key in.
  const checked = (keySpace: string, keys: readonly string[]): void => {
    for (const key of keys) checkKey(keySpace, key, deps.maxKeyBytes);
  };
  /**
   * The keys of a removal this node could hold. One it could not (over its own `maxKeyBytes`, which
   * may be smaller than the writer's) is not here to remove, so its removal is done: refusing the
   * request left the writer recording a debt no delivery could pay, with the peer off its ring
   * for good, and failed the other keys of the batch with it.
   */
  const holdable = (keySpace: string, keys: readonly string[]): readonly string[] => {
    let kept: string[] | undefined;
    keys.forEach((key, index) => {
      try {
        checkKey(keySpace, key, deps.maxKeyBytes);
        kept?.push(key);
      } catch {
        kept ??= keys.slice(0, index);
      }
    });
    return kept ?? keys;
  };

  /**
   * The answers of a GET_MANY, in the order of `keys`: fresh entries as they are, missing ones in
   * one batch load, stale ones reloaded or served within grace. With `keyErrors` a key that fails
   * gets an error result of its own; without it (an older requester) the first failure fails all.
   * A key asked for more than once is looked up, loaded and encoded once (a request repeating one
   * large value's key made the owner encode it for every repetition).
   */
  const readMany = async (
    target: KeySpace,
    keys: readonly string[],
    keyErrors: boolean,
    tagsReply: boolean,
    partial: boolean,
  ): Promise<Array<KeyResult<WireBytes>>> => {
    const now = deps.clock.now();
    const results = new Array<KeyResult<WireBytes>>(keys.length);
    const answer = (index: number, key: string, entry: CacheEntry<unknown>): void => {
      try {
        results[index] = toValueResult(target, key, entry, now, tagsReply);
      } catch (error) {
        if (!keyErrors) throw error;
        results[index] = keyError(error);
      }
    };
    const repeats = repeatsOf(keys);
    const complete = (): Array<KeyResult<WireBytes>> => {
      if (repeats !== undefined)
        for (let i = 0; i < keys.length; i++) {
          const first = repeats[i] as number;
          if (first >= 0) results[i] = results[first] as KeyResult<WireBytes>;
        }
      return results;
    };
    let missing: number[] | undefined;
    let stale: number[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      if (repeats !== undefined && (repeats[i] as number) >= 0) continue;
      const key = keys[i] as string;
      target.popularKeys?.record(key, now);
      const entry = target.storage.get(key);
      if (entry === undefined) (missing ??= []).push(i);
      else if (target.isFresh(entry)) answer(i, key, entry);
      else (stale ??= []).push(i);
    }
    if (missing === undefined && stale === undefined) return complete();
    const waits: Array<Promise<void>> = [];
    const settle = (index: number, load: Promise<CacheEntry<unknown>>): void => {
      const key = keys[index] as string;
      waits.push(
        load.then(
          (entry) => answer(index, key, entry),
          (error: unknown) => {
            if (!keyErrors) throw error;
            results[index] = keyError(error);
          },
        ),
      );
    };
    if (missing !== undefined) {
      const loads = target.loadEntries(missing.map((index) => keys[index] as string));
      missing.forEach((index, i) => settle(index, loads[i] as Promise<CacheEntry<unknown>>));
    }
    for (const index of stale ?? []) settle(index, target.ownedEntry(keys[index] as string));
    if (!keyErrors || !partial) {
      await Promise.all(waits);
      return complete();
    }
    // The keys held here are not kept waiting for the slowest load: loads done by the next turn
    // (a source answering from memory) are answered, the others marked pending; the requester asks
    // for those with a GET, which joins the load started here.
    await Promise.race([Promise.all(waits), new Promise((resolve) => setImmediate(resolve))]);
    for (let i = 0; i < results.length; i++) results[i] ??= { found: 'pending' };
    return complete();
  };

  return async (request: PeerRequest, from: PeerIdentity): Promise<PeerReply> => {
    // While stopping, only pings are refused (peers must not take this node back). Everything else
    // is still served until the listener closes: peers route here until they have processed the
    // leave notice, and a write refused in that window would fail for no reason.
    if (request.op === 'ping' && !deps.accepting()) throw engineStopped('serve ping');
    switch (request.op) {
      case 'ping':
        return { op: 'pong', nodeId: deps.nodeName };
      case 'get': {
        const target = space(request.keySpace);
        checked(request.keySpace, [request.key]);
        target.popularKeys?.record(request.key, deps.clock.now());
        const entry = await target.ownedEntry(request.key);
        const tagsReply = request.tagsReply === true;
        return {
          op: 'value',
          result: toValueResult(target, request.key, entry, deps.clock.now(), tagsReply),
        };
      }
      case 'getMany': {
        const target = space(request.keySpace);
        checked(request.keySpace, request.keys);
        const results = await readMany(
          target,
          request.keys,
          request.keyErrors === true,
          request.tagsReply === true,
          request.partial === true,
        );
        return { op: 'values', results };
      }
      case 'set': {
        const target = space(request.keySpace);
        checked(request.keySpace, [request.key]);
        target.checkSize(request.key, request.value);
        if (request.notAfter !== undefined && deps.clock.now() > request.notAfter)
          throw lateWrite(request.keySpace, request.key, deps.clock.now() - request.notAfter);
        const tags = normalizeTags(request.tags);
        if (typeof tags === 'string') throw invalidValue(request.keySpace, request.key, tags);
        // A hand-off: never over a value held here, nor over a removal it may predate.
        if (request.ifAbsent === true && target.refusesHandOff(request.key, tags !== undefined)) {
          target.countHandOff(false);
          return { op: 'ok' };
        }
        const expiresAt = request.expiresAt === 0 ? Infinity : request.expiresAt;
        target.store(request.key, request.value, expiresAt, tags);
        target.invalidateHot(request.key);
        if (request.ifAbsent === true) {
          target.countHandOff(true);
          return { op: 'ok' };
        }
        target.noteChanged(request.key);
        // Within the writer's deadline when it sent one: past it the write has failed for its caller.
        const budgetMs = request.notAfter === undefined ? undefined : request.notAfter - deps.clock.now();
        await deps.dropElsewhere?.(target, [request.key], senderId(from), budgetMs);
        return { op: 'ok' };
      }
      case 'delete':
      case 'deleteMany': {
        // A keyspace this node does not have (a rolling deploy adds it): nothing here to delete.
        if (!deps.spaces.has(request.keySpace)) return { op: 'ok', removed: 0 };
        const target = space(request.keySpace);
        const keys = holdable(request.keySpace, request.op === 'delete' ? [request.key] : request.keys);
        let removed = 0;
        for (const key of keys) if (target.delete(key)) removed += 1;
        await deps.dropElsewhere?.(target, keys, senderId(from));
        return { op: 'ok', removed };
      }
      case 'invalidate': {
        const target = deps.spaces.get(request.keySpace);
        if (target === undefined) return { op: 'ok' };
        target.countPeerRequest();
        // The writer does not send this to the node it wrote to, so every copy goes, an owned entry
        // included: a node whose ring disagreed with the writer's holds a value the write missed.
        for (const key of holdable(request.keySpace, request.keys)) target.delete(key);
        return { op: 'ok' };
      }
      case 'invalidateTags': {
        const target = deps.spaces.get(request.keySpace);
        if (target === undefined) return { op: 'ok' };
        target.countPeerRequest();
        const tags = normalizeTags(request.tags);
        if (typeof tags === 'string') throw invalidValue(request.keySpace, '(tags)', tags);
        // Every copy carrying a tag goes, owned entries and hot copies alike (as for invalidate).
        if (tags !== undefined) target.invalidateTags(tags, request.again !== true);
        return { op: 'ok' };
      }
      case 'dropKeySpace':
        deps.dropKeySpace(request.keySpace);
        return { op: 'ok' };
      case 'clearKeySpace':
        // A cluster-wide clear(), or missed invalidations that overflowed a writer's bounded log
        // (docs/protocol.md section 12). Unknown here: nothing to clear (like an invalidation).
        deps.spaces.get(request.keySpace)?.clear();
        return { op: 'ok' };
      case 'leave':
      case 'probe':
      case 'sync':
        // These are answered by the cluster coordinator before the request reaches this handler.
        return { op: 'ok' };
      default:
        throw new DistCacheError('E_PROTOCOL', `Unknown request ${(request as { op: string }).op}`);
    }
  };
}

/** A failed key of a GET_MANY, as the requester would have received it for a GET. */
function keyError(error: unknown): KeyErrorResult {
  const { code, message, detail } = failureAnswer(error);
  return detail === undefined ? { found: 'error', code, message } : { found: 'error', code, message, detail };
}

/**
 * For each key of `keys` that repeats an earlier one, the index of its first occurrence (-1 for the
 * others); undefined when every key is distinct, as the requests of distcache nodes are.
 */
function repeatsOf(keys: readonly string[]): Int32Array | undefined {
  if (keys.length < 2) return undefined;
  const seen = new Map<string, number>();
  let repeats: Int32Array | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else (repeats ??= new Int32Array(keys.length).fill(-1))[i] = first;
  }
  return repeats;
}
