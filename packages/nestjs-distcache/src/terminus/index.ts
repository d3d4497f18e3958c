// The Terminus entry point (`nestjs-distcache/terminus`). Kept apart from the main entry so that
// `@nestjs/terminus` stays an optional peer dependency: only applications importing this path
// load it.
export { DistCacheHealthIndicator, type DistCacheHealthOptions } from './distcache.health';
