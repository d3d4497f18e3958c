export type { Codec } from './codec';
export { structuredCodec } from './structured.codec';
export { jsonCodec } from './json.codec';
export { rawCodec } from './raw.codec';
export { deepFreeze } from './deep-freeze';
