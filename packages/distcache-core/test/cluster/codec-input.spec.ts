// A peer's answer is decoded straight from the socket's read buffer for the built-in codecs (they
// copy what they keep). A codec of the user's own may keep a view of its input: it must get a copy
// of just the value, never a view of a buffer holding other frames. And a value its owner holds
// decoded (frozen) reaches peers in the form the default codec chose for it when it was loaded.
// Two engines over real TCP.
import { afterEach, describe, expect, it } from 'vitest';
import { type Codec, jsonCodec, structuredCodec } from '../../src';
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

/** Two engines that fail over quickly and keep no hot copies: every read of a key owned elsewhere asks its owner. */
const NO_HOT_COPIES = {
  clusterOptions: {
    pingInterval: 50,
    pingTimeout: 200,
    failureTimeout: 600,
    discoveryInterval: 200,
    hotTtl: 0,
  },
};

let nodes: Array<TestNode<Uint8Array>> = [];
afterEach(async () => {
  await stopAll(nodes);
  nodes = [];
});

describe('the bytes a codec of the user decodes', () => {
  it('are a copy of the value alone, on a read from the owner that keeps no hot copy', async () => {
    nodes = await startCluster(2, catalogue, { codec: viewCodec, valueMode: 'copy' }, NO_HOT_COPIES);
    const asker = nodes[0]!;
    const key = catalogue.map(([k]) => k).find((k) => ownerOf(nodes, k) !== asker)!;
    const value = await asker.engine.get<Uint8Array>('products', key);
    expect(Uint8Array.from(value!)).toEqual(new Uint8Array(100).fill(Number(key)));
    expect(value!.buffer.byteLength).toBe(100);
  });
});

interface Row {
  id: string;
  at: Date;
  tags: string[];
}
const rows = Array.from({ length: 50 }, (_, index): [string, Row] => [
  String(index),
  { id: `r-${index}`, at: new Date(Date.UTC(2026, 0, 1 + index)), tags: ['a', String(index)] },
]);

describe('the form a peer receives a value in', () => {
  let cluster: Array<TestNode<Row>> = [];
  afterEach(async () => {
    await stopAll(cluster);
    cluster = [];
  });

  it('is the shaped form for a value its owner holds decoded and frozen, not V8 format', async () => {
    // The default codec, watched: the first byte of every input it decodes (0x03: the shaped form;
    // 0xff: V8 format, which a read pays for in garbage collection).
    const structured = structuredCodec();
    const decodedForms: number[] = [];
    const watched: Codec<Row> = {
      name: 'watched-structured',
      encode: (value) => structured.encode(value),
      decode: (bytes) => {
        decodedForms.push(bytes[0]!);
        return structured.decode(bytes) as Row;
      },
    };
    cluster = await startCluster(2, rows, { codec: watched }, NO_HOT_COPIES);
    const [asker, other] = cluster;
    const key = rows.map(([k]) => k).find((k) => ownerOf(cluster, k) !== asker)!;
    // The owner loads the key and reads it itself: it now holds the frozen value, not the bytes.
    const held = await other!.engine.get<Row>('products', key);
    expect(Object.isFrozen(held)).toBe(true);
    expect(Object.isFrozen(held!.at)).toBe(true);
    decodedForms.length = 0;

    const value = await asker!.engine.get<Row>('products', key);
    expect(decodedForms).toEqual([0x03]);
    expect(value).toEqual(rows[Number(key)]![1]);
    expect(value!.at).toBeInstanceOf(Date);
    expect(other!.source.callsFor(key)).toBe(1);
    expect(asker!.source.callsFor(key)).toBe(0);
  });

  it('is read-only on the asker that keeps no copy, with the default codec built frozen', async () => {
    cluster = await startCluster(2, rows, {}, NO_HOT_COPIES);
    const [asker, other] = cluster;
    const keys = rows.map(([k]) => k).filter((k) => ownerOf(cluster, k) !== asker);
    // A get, then a getMany: both decode the owner's answer once, read-only, and keep nothing.
    const single = await asker!.engine.get<Row>('products', keys[0]!);
    const many = await asker!.engine.getMany<Row>('products', keys.slice(1, 4));
    for (const value of [single, ...many.values()]) {
      expect(Object.isFrozen(value)).toBe(true);
      expect(Object.isFrozen(value!.tags)).toBe(true);
      expect(value!.at).toBeInstanceOf(Date);
      expect(() => value!.at.setFullYear(2000)).toThrow(TypeError);
      expect(() => value!.tags.push('x')).toThrow(TypeError);
    }
    expect(single).toEqual(rows[Number(keys[0])]![1]);
    // Nothing the asker handed out changed what the owner holds or what the next read gets.
    expect(await asker!.engine.get<Row>('products', keys[0]!)).toEqual(rows[Number(keys[0])]![1]);
    expect(asker!.source.callsFor(keys[0]!)).toBe(0);
    expect(other!.source.callsFor(keys[0]!)).toBe(1);
  });
});

describe('a node whose keyspace has another codec than its peers', () => {
  let cluster: Array<TestNode<Row>> = [];
  afterEach(async () => {
    await stopAll(cluster);
    cluster = [];
  });

  it("fails a read of a peer's value with E_DECODE_FAILED naming the codec and the cause, counted as a peer error", async () => {
    // A rolling deploy that changes a keyspace's codec, or one replica configured apart: nothing
    // else shows it (the handshake carries no codecs), so the error says it.
    cluster = await startCluster(
      2,
      rows,
      (index) => (index === 1 ? { codec: jsonCodec() } : {}),
      NO_HOT_COPIES,
    );
    const [, jsonNode] = cluster;
    const key = rows.map(([k]) => k).find((k) => ownerOf(cluster, k) !== jsonNode)!;
    const error = await jsonNode!.engine.get('products', key).catch((failed: unknown) => failed);
    expect(error).toMatchObject({
      code: 'E_DECODE_FAILED',
      details: { keySpace: 'products', key, codec: 'json' },
    });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Could not decode the value of "products/${key}" with codec "json" \\(.+\\); .*same codec$`,
      ),
    );
    expect(jsonNode!.engine.stats().keySpaces['products']!.peerErrors).toBe(1);
  });
});
