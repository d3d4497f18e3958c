export type { Hasher } from './hasher';
export {
  DEFAULT_HASHER,
  Murmur3Hasher,
  murmur3Bytes,
  murmur3Hasher,
  murmur3String,
  type Murmur3HasherOptions,
} from './murmur3';
export {
  DEFAULT_VIRTUAL_NODES,
  MAX_VIRTUAL_NODES,
  MIN_VIRTUAL_NODES,
  resolveHashRingOptions,
  type HashRingOptions,
  type ResolvedHashRingOptions,
} from './hash-ring.options';
export { HashRing, MAX_RING_MEMBERS, hashRing } from './hash-ring';
