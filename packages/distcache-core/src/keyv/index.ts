// distcache-core/keyv: the cluster as a Keyv store (keyv is an optional peer dependency).
export { KeyvDistCache, type KeyvDistCacheOptions } from './keyv.store';
