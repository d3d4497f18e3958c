/**
 * Encoded bytes as an entry keeps them: a one-byte (latin1) string on the V8 heap, one byte per
 * byte. Measured against a `Uint8Array` of its own (bench/memory, fill beyond capacity in
 * `valueMode: 'copy'`): 16 B of header instead of ~176 B of view, buffer and extension records, and
 * no malloc'd backing store, whose churn as entries are evicted left RSS at 2.6x `maxBytes`;
 * the garbage collector compacts the heap instead. The price is one copy (~0.2 µs per KB) when the
 * bytes are decoded; a peer's answer takes the string itself (`WireBytes`), copied once into its
 * frame. Values above {@link MAX_PACKED_BYTES} stay a `Uint8Array`.
 */
export type PackedBytes = string | Uint8Array;

/** Larger values keep their own `Uint8Array` (V8 strings stop at 2^29 characters). */
export const MAX_PACKED_BYTES = 64 * 1024 * 1024;
const STRING_HEADER = 16;
/** A `Uint8Array` of its own: view, ArrayBuffer and extension record on the heap (measured). */
const OWN_BYTES_OVERHEAD = 176;

/** The bytes in the form an entry keeps them: a copy, never a view of a larger buffer. */
export function pack(bytes: Uint8Array): PackedBytes {
  if (bytes.byteLength > MAX_PACKED_BYTES) return new Uint8Array(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** The bytes again (a copy when packed as a string). */
export function unpack(packed: PackedBytes): Uint8Array {
  return typeof packed === 'string' ? Buffer.from(packed, 'latin1') : packed;
}

/** Memory held by packed bytes. */
export function packedSize(packed: PackedBytes): number {
  return typeof packed === 'string'
    ? STRING_HEADER + Math.ceil(packed.length / 8) * 8
    : OWN_BYTES_OVERHEAD + packed.byteLength;
}

/** What `bytes` will hold once packed, without packing them. */
export function packedSizeOf(bytes: Uint8Array): number {
  return bytes.byteLength > MAX_PACKED_BYTES
    ? OWN_BYTES_OVERHEAD + bytes.byteLength
    : STRING_HEADER + Math.ceil(bytes.byteLength / 8) * 8;
}
