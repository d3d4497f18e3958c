export type { Storage, StorageEntry, RemovalReason } from './storage';
export { LruStorage, type LruStorageOptions } from './lru.storage';
