import type { ModulesContainer } from '@nestjs/core';
import { DISTCACHE_ENGINE, DISTCACHE_MODULE_OPTIONS } from './distcache.constants';
import { importedTwice } from './explorer/bootstrap-errors';

/**
 * Fails when the application holds more than one `DistCacheModule` made by `forRoot()` or
 * `forRootAsync()` (two imports with different options are two modules to Nest; the same
 * dynamic module imported twice is one). Each would build and start its own engine and wrap every
 * decorated method again, and `DistCacheService` would resolve to either. `ModulesContainer`
 * belongs to one application, so separate applications in one process do not see each other.
 * @throws DistCacheError `E_INVALID_OPTION` saying where it is imported and what to do instead
 */
export function checkSingleImport(modules: ModulesContainer): void {
  const all = [...modules.values()];
  // String tokens, not the class: an ESM and a CommonJS copy of this package are found alike.
  const instances = all.filter(
    (ref) => ref.providers.has(DISTCACHE_MODULE_OPTIONS) && ref.providers.has(DISTCACHE_ENGINE),
  );
  if (instances.length < 2) return;
  const imports = instances.map((instance) => {
    // A global module is bound into every module's imports: who imported it is lost.
    if (instance.isGlobal) return 'one with isGlobal: true';
    const importers = all.filter((ref) => ref.imports.has(instance)).map((ref) => ref.name);
    return importers.length === 0 ? 'one' : `one imported by ${importers.join(', ')}`;
  });
  throw importedTwice(imports);
}
