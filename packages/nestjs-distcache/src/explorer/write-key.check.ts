import type { ReadThroughMetadata } from '../decorators/decorator.types';
import { writeKeyMismatch } from './bootstrap-errors';
import type { ResolvedCacheWrite } from './cache-write.options';

/** A method, as the check needs it. */
export interface MethodRef {
  readonly prototype: object;
  readonly name: string;
  /** `ClassName.method`. */
  readonly label: string;
}

/**
 * Fails bootstrap when a `@CacheEvict`/`@CachePut` without `key` cannot hit what the
 * `@ReadThrough` of its keyspace caches: that method derives keys with its own `key`, or takes
 * other parameters (by the types TypeScript emits, else by count).
 * @throws DistCacheError `E_INVALID_OPTION` naming both methods and the fix
 */
export function checkWriteKey(
  where: string,
  write: ResolvedCacheWrite,
  writer: MethodRef,
  reader: MethodRef,
  readThrough: ReadThroughMetadata,
): void {
  if (write.key !== undefined) return;
  // An eviction by tags alone derives no key.
  if (write.kind === 'evict' && write.tags !== undefined) return;
  const writerParams = parameters(writer);
  const readerParams = parameters(reader);
  if (readThrough.options.key !== undefined) {
    throw writeKeyMismatch(
      where,
      writer.label,
      writerParams.text,
      reader.label,
      readerParams.text,
      'custom-key',
    );
  }
  if (writerParams.signature !== readerParams.signature) {
    throw writeKeyMismatch(
      where,
      writer.label,
      writerParams.text,
      reader.label,
      readerParams.text,
      'parameters',
    );
  }
}

function parameters(method: MethodRef): { signature: string; text: string } {
  const types: unknown = Reflect.getMetadata('design:paramtypes', method.prototype, method.name);
  if (Array.isArray(types)) {
    const names = (types as unknown[]).map((type) =>
      typeof type === 'function' && type.name !== '' ? type.name : 'unknown',
    );
    return { signature: names.join(','), text: names.join(', ') };
  }
  // Compiled without decorator metadata: the declared parameter count is all there is.
  const fn = (method.prototype as Record<string, unknown>)[method.name];
  const count = typeof fn === 'function' ? fn.length : 0;
  return { signature: `#${count}`, text: `${count} parameter${count === 1 ? '' : 's'}` };
}
