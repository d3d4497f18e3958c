import { DistCacheError } from 'distcache-core';
import { encodeArguments, type MethodShape } from '../keys/method-key';

/** A decorated method as a call-time key error names it. */
export interface KeySite {
  /** The decorator and method, e.g. `@ReadThrough('products') on ProductsService.search`. */
  readonly where: string;
  readonly keySpace: string;
  /** `ClassName.method`. */
  readonly label: string;
  /** What the decorator takes instead of the default encoding. */
  readonly custom: string;
}

/**
 * The key of a call to a decorated method, encoded from its arguments (`encodeArguments`). The
 * arguments come from the application's callers, so a refusal is reported like the engine's own
 * key errors, naming the method and the way out, rather than as the encoder's bare `TypeError`.
 * @throws DistCacheError `E_INVALID_KEY` when an argument does not survive a JSON round trip (a
 *   class instance such as a DTO, a `Date`, `NaN`...)
 */
export function callKey(site: KeySite, args: readonly unknown[], shape: MethodShape): string {
  try {
    return encodeArguments(args, shape);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new DistCacheError(
      'E_INVALID_KEY',
      `${site.where}: cannot make a key of keyspace "${site.keySpace}" from the arguments: ` +
        `${error.message}. Pass plain values (strings, finite numbers, booleans, null, arrays, plain ` +
        'objects: ' +
        `{ ...dto } for a class instance, an ISO string for a Date), or give the decorator ${site.custom}`,
      { cause: error, details: { keySpace: site.keySpace, method: site.label } },
    );
  }
}
