// node:diagnostics_channel events: published only with subscribers, with the shapes documented in
// docs/observability.md, from a standalone engine and from a three-node cluster.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DIAGNOSTICS_CHANNELS,
  type DistCacheEngine,
  type GetChannelMessage,
  type LoadChannelMessage,
  type MembershipChannelMessage,
  type PeerRequestChannelMessage,
} from '../../src';
import { rejectionOf, startedEngine } from '../support/engine.fixture';
import type { EngineProbe } from '../../src/telemetry/engine.probe';
import { ownerOf, startCluster, stopAll, type TestNode, waitUntil } from '../support/cluster';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Subscribes to `name` for the rest of the test; returns the messages received. */
function listen<M>(name: string): M[] {
  const messages: M[] = [];
  const onMessage = (message: unknown): void => {
    messages.push(message as M);
  };
  subscribe(name, onMessage);
  cleanups.push(() => {
    unsubscribe(name, onMessage);
  });
  return messages;
}

async function engineFor(
  test: Parameters<typeof startedEngine>[0] = {},
): Promise<Awaited<ReturnType<typeof startedEngine>>> {
  const setup = await startedEngine(test, { nodeName: 'diag-node' });
  cleanups.push(() => setup.engine.stop());
  return setup;
}

const probeOf = (engine: DistCacheEngine): EngineProbe => (engine as unknown as { probe: EngineProbe }).probe;

describe('diagnostics channels', () => {
  it('publishes nothing and takes the plain path while nobody subscribes', async () => {
    const { engine } = await engineFor();
    expect(probeOf(engine).reads).toBe(false);
    const gets = listen<GetChannelMessage>(DIAGNOSTICS_CHANNELS.get);
    expect(probeOf(engine).reads).toBe(true);
    await engine.get('products', '1');
    expect(gets).toHaveLength(1);
  });

  it('distcache:get reports each read with its outcome and duration', async () => {
    const { engine, source } = await engineFor();
    const gets = listen<GetChannelMessage>(DIAGNOSTICS_CHANNELS.get);
    await engine.get('products', '1');
    await engine.get('products', '1');
    await engine.getMany('products', ['1', '2']);
    source.failWith = new Error('db down');
    const error = await rejectionOf(engine.get('products', '3'));
    expect(gets.map(({ durationMs: _durationMs, ...rest }) => rest)).toEqual([
      {
        node: 'diag-node',
        operation: 'get',
        keySpace: 'products',
        key: '1',
        outcome: 'miss',
        error: undefined,
      },
      {
        node: 'diag-node',
        operation: 'get',
        keySpace: 'products',
        key: '1',
        outcome: 'hit',
        error: undefined,
      },
      {
        node: 'diag-node',
        operation: 'getMany',
        keySpace: 'products',
        keys: ['1', '2'],
        outcome: 'ok',
        error: undefined,
      },
      { node: 'diag-node', operation: 'get', keySpace: 'products', key: '3', outcome: 'error', error },
    ]);
    for (const message of gets) expect(message.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('distcache:load reports each data-source call', async () => {
    const { engine, source } = await engineFor();
    const loads = listen<LoadChannelMessage>(DIAGNOSTICS_CHANNELS.load);
    await engine.get('products', '1');
    await engine.get('products', 'missing');
    source.failWith = new Error('db down');
    await rejectionOf(engine.get('products', '2'));
    expect(loads.map(({ keys, outcome }) => ({ keys, outcome }))).toEqual([
      { keys: ['1'], outcome: 'found' },
      { keys: ['missing'], outcome: 'not_found' },
      { keys: ['2'], outcome: 'error' },
    ]);
    expect(loads[2]!.error).toBe(source.failWith);
    expect(loads[0]).toMatchObject({ node: 'diag-node', keySpace: 'products' });
  });

  it('distcache:load ends a load that outlives its read timeout', async () => {
    const { engine, source, clock } = await engineFor({ readTimeout: '1s' });
    const loads = listen<LoadChannelMessage>(DIAGNOSTICS_CHANNELS.load);
    source.hang = true;
    const pending = rejectionOf(engine.get('products', '1'));
    await clock.advance(1_000);
    await pending;
    expect(loads).toHaveLength(1);
    expect(loads[0]).toMatchObject({ outcome: 'error', error: { code: 'E_DATASOURCE_TIMEOUT' } });
  });
});

describe('diagnostics channels in a cluster', () => {
  it('distcache:peer-request and distcache:membership report peers and members', async () => {
    const membership = listen<MembershipChannelMessage>(DIAGNOSTICS_CHANNELS.membership);
    const requests = listen<PeerRequestChannelMessage>(DIAGNOSTICS_CHANNELS.peerRequest);
    // Enough keys that some are owned by each node whatever ports the ring hashes (with 3 keys, all
    // of them landed on the asker in about one run in 27).
    const ids = Array.from({ length: 30 }, (_, index) => String(index + 1));
    const nodes: Array<TestNode<{ id: string }>> = await startCluster(
      3,
      ids.map((id): [string, { id: string }] => [id, { id }]),
    );
    cleanups.push(() => stopAll(nodes));
    const joined = membership.filter((message) => message.event.type === 'joined');
    // Every node saw the two others join, ending with three members.
    for (const node of nodes) {
      const seen = joined.filter((message) => message.node === node.name);
      expect(seen, node.name).toHaveLength(2);
      expect(seen.at(-1)?.members).toBe(3);
    }

    const [asker] = nodes as [TestNode<{ id: string }>];
    const key = ids.find((id) => ownerOf(nodes, id) !== asker)!;
    const owner = ownerOf(nodes, key);
    requests.length = 0;
    await asker.engine.get('products', key);
    const gets = requests.filter((message) => message.operation === 'get');
    expect(gets.map(({ durationMs: _d, ...rest }) => rest)).toEqual(
      expect.arrayContaining([
        { node: asker.name, direction: 'outgoing', operation: 'get', peer: owner.id, outcome: 'ok' },
        { node: owner.name, direction: 'incoming', operation: 'get', peer: asker.id, outcome: 'ok' },
      ]),
    );

    const leaving = nodes.find((node) => node !== asker)!;
    await leaving.engine.stop();
    await waitUntil(
      () =>
        membership.some(
          (m) => m.node === asker.name && m.event.type === 'left' && m.event.peer.id === leaving.id,
        ),
      5_000,
      'the leave to be published',
    );
    const left = membership.find((m) => m.node === asker.name && m.event.type === 'left')!;
    expect(left).toMatchObject({ event: { type: 'left', reason: 'graceful' }, members: 2 });
  });
});
