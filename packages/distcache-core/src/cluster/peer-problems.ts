import type { PeerInfo } from './peer-state';

/**
 * Listed peers that are not members, each with the reason the failure detector recorded, named
 * once: a reason that names the peer itself ("Peer 10.0.0.3:7000 is unavailable: ...") is kept as
 * it is, any other is prefixed with the peer ("10.0.0.3:7000 is not a member: <reason>"). Members
 * (alive or suspect) are left out, whatever they reported before. What the admin server's
 * `/healthz` and `nestjs-distcache`'s health indicator list as `peerProblems`.
 *
 * @example
 * ```ts
 * const problems = peerProblems(engine.peers()); // [] when every listed peer is a member
 * ```
 */
export function peerProblems(peers: readonly PeerInfo[]): string[] {
  const problems: string[] = [];
  for (const peer of peers) {
    const { problem } = peer;
    if (problem === undefined || peer.status === 'alive' || peer.status === 'suspect') continue;
    problems.push(problem.includes(peer.id) ? problem : `${peer.id} is not a member: ${problem}`);
  }
  return problems;
}
