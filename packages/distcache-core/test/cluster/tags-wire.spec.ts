// Tags on the wire against a real node: a requester of an older version (no TAGS flag) gets plain
// values, a current one gets the tags, and INVALIDATE_TAGS from a peer revokes what carries them.
import { afterEach, describe, expect, it } from 'vitest';
import { TcpPeerTransport } from '../../src/transport/tcp-peer-transport';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';

interface Row {
  id: string;
}
const rows = Array.from({ length: 20 }, (_, index): [string, Row] => [String(index), { id: String(index) }]);

let nodes: Array<TestNode<Row>> = [];
let client: TcpPeerTransport | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await stopAll(nodes);
  nodes = [];
});

describe('tags on the wire', () => {
  it('sends tags only to a requester that asked, and revokes them on INVALIDATE_TAGS', async () => {
    nodes = await startCluster<Row>(2, rows, { tags: (row) => [`row:${row.id}`, 'all'] });
    const owner = ownerOf(nodes, '3');
    await owner.engine.get('products', '3');
    client = new TcpPeerTransport({ nodeId: 'raw-peer', host: '127.0.0.1', port: 0 });
    const [host, port] = owner.id.split(':') as [string, string];
    const peer = { host, port: Number(port) };
    const get = (tagsReply: boolean) =>
      client!.request(
        peer,
        { op: 'get', keySpace: 'products', key: '3', forwarded: true, tagsReply },
        { timeoutMs: 2_000 },
      );

    const old = await get(false);
    expect(old.op === 'value' && old.result.found && old.result.tags).toBe(undefined);
    const current = await get(true);
    expect(current.op === 'value' && current.result.found && current.result.tags).toEqual(['row:3', 'all']);
    expect(owner.source.callsFor('3')).toBe(1);

    const ok = await client.request(
      peer,
      { op: 'invalidateTags', keySpace: 'products', tags: ['row:3'] },
      { timeoutMs: 2_000 },
    );
    expect(ok.op).toBe('ok');
    await get(true);
    expect(owner.source.callsFor('3')).toBe(2);
    expect(owner.engine.stats().keySpaces.products!.tagInvalidations).toBe(1);
  });
});
