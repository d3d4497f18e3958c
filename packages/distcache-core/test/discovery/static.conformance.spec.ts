// The conformance checks for the providers that need no server: static and standalone.
import { describe, expect, it } from 'vitest';
import { isDistCacheError, standaloneDiscovery, staticDiscovery } from '../../src';
import { discoveryConformanceChecks } from '../../src/testing';

describe('staticDiscovery conformance', () => {
  const peers = ['127.0.0.1:4001', '127.0.0.1:4002', '[::1]:4003'];
  for (const check of discoveryConformanceChecks({
    create: () => staticDiscovery({ peers }),
    announces: false,
    expectedPeers: [
      { host: '127.0.0.1', port: 4001 },
      { host: '::1', port: 4003 },
    ],
  })) {
    it(check.name, () => check.run());
  }
});

describe('standaloneDiscovery conformance', () => {
  for (const check of discoveryConformanceChecks({ create: () => standaloneDiscovery(), announces: false })) {
    it(check.name, () => check.run());
  }
});

describe('staticDiscovery options', () => {
  it.each([[['nohost']], [['host:0']], [['host:70000']], [[':3320']], [[42]], ['host:1']])(
    'rejects %j with E_INVALID_OPTION',
    (peers) => {
      let error: unknown;
      try {
        staticDiscovery({ peers: peers as string[] });
      } catch (caught) {
        error = caught;
      }
      expect(isDistCacheError(error, 'E_INVALID_OPTION')).toBe(true);
    },
  );

  it('refuses an empty list, pointing to standaloneDiscovery', () => {
    expect(() => staticDiscovery({ peers: [] })).toThrow(
      'Invalid option "discovery.peers": is empty: list every node of the cluster, this one included, or use standaloneDiscovery() for a single node',
    );
  });

  it('refuses an unknown option, naming the one meant', () => {
    expect(() => staticDiscovery({ peer: ['a:1'] } as never)).toThrow(
      'Invalid option "discovery.peer": is not a known staticDiscovery option; did you mean "peers"?',
    );
  });
});
