import { peerProblems } from '../cluster/peer-problems';
import type { PeerInfo, PeerStatus } from '../cluster/peer-state';
import type { EngineState } from '../engine/engine.events';
import type { EngineStats, KeySpaceConfigSnapshot } from '../engine/engine.types';
import type { KeySpaceStats } from '../keyspace/keyspace.stats';

/**
 * What the admin server reads from the engine. `DistCacheEngine` has it; tests and other hosts
 * may pass anything with the same shape.
 */
export interface AdminTarget {
  readonly state: EngineState;
  stats(): EngineStats;
  peers(): PeerInfo[];
  readonly options: { readonly clusterOptions: { readonly minMembers: number } };
}

/** One node as `GET /peers` lists it. */
export interface PeerView {
  /** `host:port` of its peer listener. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly nodeName: string | null;
  readonly status: PeerStatus | 'self';
  /** Share of the hash space it owns, 0..1 (0 when not on the ring). */
  readonly ownershipShare: number;
  /** Epoch milliseconds of its last answered ping; `null` for this node or when never seen. */
  readonly lastSeenAt: number | null;
  /** Why it is not a member, or why it is suspected; `null` when fine. */
  readonly problem: string | null;
}

/** Body of `GET /peers`. */
export interface PeersView {
  readonly node: string;
  readonly cluster: string;
  readonly state: EngineState;
  /** Members on the ring, this node included. */
  readonly members: number;
  /** The quorum `start()` waits for (`clusterOptions.minMembers`). */
  readonly minMembers: number;
  /** This node first, then every peer it knows. */
  readonly peers: readonly PeerView[];
}

/** One keyspace as `GET /keyspaces` lists it: counters and occupancy, and its effective settings. */
export interface KeySpaceView {
  readonly name: string;
  readonly stats: KeySpaceStats;
  /** Effective configuration; every duration in milliseconds (`*Ms`). */
  readonly config: KeySpaceConfigSnapshot;
}

/** Body of `GET /keyspaces`. */
export interface KeySpacesView {
  readonly node: string;
  /** Epoch milliseconds of the snapshot (the dashboard computes rates from two of them). */
  readonly at: number;
  readonly keySpaces: readonly KeySpaceView[];
}

/**
 * Body of `GET /healthz`: 200 unless the engine is stopping or stopped. `degraded` (still 200) when
 * a listed peer is not a member and why is known: another cluster name or protocol version, it does
 * not list this node, or it does not answer.
 */
export interface HealthView {
  readonly status: 'ok' | 'degraded' | 'failing';
  readonly state: EngineState;
  /** Keyspaces whose breaker is open or half-open (informational: a failing backend is not a dead process). */
  readonly openBreakers: readonly string[];
  /** One line per listed peer that is not a member, with the reason. */
  readonly peerProblems: readonly string[];
}

/** Body of `GET /readyz`: 200 only when the engine runs and the quorum is met. */
export interface ReadyView {
  readonly ready: boolean;
  readonly state: EngineState;
  readonly members: number;
  readonly minMembers: number;
  /** Why the node is not ready; empty when it is. */
  readonly reasons: readonly string[];
}

export function peersView(target: AdminTarget): PeersView {
  const stats = target.stats();
  return {
    node: stats.nodeName,
    cluster: stats.cluster,
    state: stats.state,
    members: stats.members,
    minMembers: target.options.clusterOptions.minMembers,
    peers: target.peers().map((peer) => ({
      id: peer.id,
      host: peer.host,
      port: peer.port,
      nodeName: peer.nodeName ?? null,
      status: peer.status,
      ownershipShare: peer.ownershipShare,
      lastSeenAt: peer.lastSeenAt ?? null,
      problem: peer.problem ?? null,
    })),
  };
}

export function keySpacesView(target: AdminTarget, now: number): KeySpacesView {
  const stats = target.stats();
  return {
    node: stats.nodeName,
    at: now,
    keySpaces: Object.entries(stats.keySpaces).map(([name, { config, ...counters }]) => ({
      name,
      stats: counters,
      config,
    })),
  };
}

export function healthView(target: AdminTarget): HealthView {
  const state = target.state;
  const openBreakers = Object.entries(target.stats().keySpaces)
    .filter(([, space]) => space.breaker === 'open' || space.breaker === 'half-open')
    .map(([name]) => name);
  const failing = state === 'stopping' || state === 'stopped';
  const problems = peerProblems(target.peers());
  const status = failing ? 'failing' : problems.length > 0 ? 'degraded' : 'ok';
  return { status, state, openBreakers, peerProblems: problems };
}

export function readyView(target: AdminTarget): ReadyView {
  const { state, members } = target.stats();
  const minMembers = target.options.clusterOptions.minMembers;
  const reasons: string[] = [];
  if (state !== 'running') reasons.push(`engine is ${state}`);
  if (members < minMembers) reasons.push(`${members} of ${minMembers} members`);
  return { ready: reasons.length === 0, state, members, minMembers, reasons };
}
