// A peer's answer is decoded straight from the socket's read buffer for the built-in codecs (they
// copy what they keep). A codec of the user's own may keep a view of its input: it must get a copy
// of just the value, never a view of a buffer holding other frames. Two engines over real TCP.
import { afterEach, describe, expect, it } from 'vitest';
import type { Codec } from '../../src';
import { ownerOf, startCluster, stopAll, type TestNode } from '../support/cluster';

/** Returns a view of its input, as msgpackr does by default for binary fields. */
const viewCodec: Codec<Uint8Array> = {
  name: 'view',
  encode: (value) => value,
  decode: (bytes) => bytes.subarray(0),
};

const catalogue = Array.from({ length: 50 }, (_, index): [string, Uint8Array] => [
  String(index),
  new Uint8Array(100).fill(index),
]);

let nodes: Array<TestNode<Uint8Array>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

describe('the bytes a codec of the user decodes', () => {
  it('are a copy of the value alone, on a read from the owner that keeps no hot copy', async () => {
    nodes = await startCluster(
      2,
      catalogue,
      { codec: viewCodec, valueMode: 'copy' },
      {
        clusterOptions: {
          pingInterval: 50,
          pingTimeout: 200,
          failureTimeout: 600,
          discoveryInterval: 200,
          hotTtl: 0,
        },
      },
    );
    const asker = nodes[0]!;
    const key = catalogue.map(([k]) => k).find((k) => ownerOf(nodes, k) !== asker)!;
    const value = await asker.engine.get<Uint8Array>('products', key);
    expect(Uint8Array.from(value!)).toEqual(new Uint8Array(100).fill(Number(key)));
    expect(value!.buffer.byteLength).toBe(100);
  });
});
