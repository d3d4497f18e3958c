// Reading shaped-form bytes in tests (src/codec/shaped-form.ts, "Layout"), without the codec.

/** The shape list at the head of shaped-form bytes, parsed: one list of keys per shape. */
export function shapeListOf(bytes: Uint8Array): string[][] {
  let length = 0;
  let at = 5;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  return JSON.parse(Buffer.from(bytes.subarray(at, at + length)).toString()) as string[][];
}
