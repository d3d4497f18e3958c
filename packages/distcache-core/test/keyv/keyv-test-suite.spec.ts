// Keyv's official conformance suite against KeyvDistCache: API, values and namespaces, on a
// standalone engine and on a node of a three-node cluster (most keys owned by the other two).
// The iterator tests are left out: the engine does not list keys.
import { keyvApiTests, keyvNamespaceTest, keyvValueTests } from '@keyv/test-suite';
import Keyv from 'keyv';
import * as test from 'vitest';
import { DistCacheEngine } from '../../src';
import { KeyvDistCache } from '../../src/keyv';
import { startCluster, stopAll, type TestNode } from '../support/cluster';

const standalone = new DistCacheEngine();
let nodes: Array<TestNode<unknown>> = [];

test.beforeAll(async () => {
  await standalone.start();
  nodes = await startCluster(3, []);
  // Every replica creates its store, as each would in its own process: the keyspace exists on all.
  for (const node of nodes) new KeyvDistCache(node.engine, { keySpace: 'keyv' });
});
test.afterAll(async () => {
  await standalone.stop();
  await stopAll(nodes);
});

test.describe('@keyv/test-suite on a standalone engine', () => {
  const store = () => new KeyvDistCache(standalone, { keySpace: 'keyv' });
  keyvApiTests(test, Keyv, store);
  keyvValueTests(test, Keyv, store);
  keyvNamespaceTest(test, Keyv, store);
});

test.describe('@keyv/test-suite on a node of a three-node cluster', () => {
  const store = () => new KeyvDistCache(nodes[0]!.engine, { keySpace: 'keyv' });
  keyvApiTests(test, Keyv, store);
  keyvValueTests(test, Keyv, store);
  keyvNamespaceTest(test, Keyv, store);
});
