// The conformance checks every discovery provider must pass, run against dnsDiscovery in both
// modes, talking to a real DNS server on a loopback port.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { dnsDiscovery } from '../../src/discovery/dns';
import { discoveryConformanceChecks } from '../../src/testing';
import { TestDnsServer } from '../support/dns-server';

let dns: TestDnsServer;
beforeAll(async () => {
  dns = await TestDnsServer.start();
  dns.setA('cache.conformance.test', ['127.0.0.1', '127.0.0.2']);
  dns.setA('node-a.conformance.test', ['127.0.0.1']);
  dns.setSrv('_distcache._tcp.conformance.test', [
    { target: 'node-a.conformance.test', port: 4101 },
    { target: '127.0.0.3', port: 4102 },
  ]);
});
afterAll(() => dns.stop());

describe('dnsDiscovery conformance, A records', () => {
  for (const check of discoveryConformanceChecks({
    create: () => dnsDiscovery({ name: 'cache.conformance.test', port: 4100, servers: [dns.address] }),
    announces: false,
    expectedPeers: [
      { host: '127.0.0.1', port: 4100 },
      { host: '127.0.0.2', port: 4100 },
    ],
  })) {
    it(check.name, () => check.run());
  }
});

describe('dnsDiscovery conformance, SRV records', () => {
  for (const check of discoveryConformanceChecks({
    create: () => dnsDiscovery({ srv: '_distcache._tcp.conformance.test', servers: [dns.address] }),
    announces: false,
    expectedPeers: [
      { host: '127.0.0.1', port: 4101 },
      { host: '127.0.0.3', port: 4102 },
    ],
  })) {
    it(check.name, () => check.run());
  }
});
