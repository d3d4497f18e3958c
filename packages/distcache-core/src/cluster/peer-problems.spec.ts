import { describe, expect, it } from 'vitest';
import { peerProblems } from './peer-problems';
import type { PeerInfo } from './peer-state';

describe('peerProblems', () => {
  it('lists listed peers that are not members with their reason, naming each peer once', () => {
    const peer = (id: string, status: string, problem?: string) =>
      ({ id, status, ...(problem === undefined ? {} : { problem }) }) as unknown as PeerInfo;
    expect(
      peerProblems([
        peer('10.0.0.1:7000', 'alive'),
        peer(
          '10.0.0.2:7000',
          'pending',
          'E_PEER_UNAVAILABLE: Peer 10.0.0.2:7000 is unavailable: cannot connect',
        ),
        peer('10.0.0.3:7000', 'refused', 'cluster name "orders", not "catalogue"'),
        // Alive or suspect: a member, whatever it reported before.
        peer('10.0.0.4:7000', 'suspect', 'E_TIMEOUT'),
      ]),
    ).toEqual([
      'E_PEER_UNAVAILABLE: Peer 10.0.0.2:7000 is unavailable: cannot connect',
      '10.0.0.3:7000 is not a member: cluster name "orders", not "catalogue"',
    ]);
  });
});
