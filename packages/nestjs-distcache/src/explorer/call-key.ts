import { DistCacheError } from 'distcache-core';
import { shownValue } from './shown-value';
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
  /** What its `key` function must return: `a non-empty string`. */
  readonly expected: string;
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

/** How a refused key was made, for the way out {@link keyRefused} suggests. */
export interface KeyOrigin {
  /** The key (or keys) the engine refused. */
  readonly key: unknown;
  /** Whether the decorator's `key` function returned it (else the default encoding made it). */
  readonly fromKeyFunction: boolean;
  /** The engine's `maxKeyBytes`. */
  readonly maxKeyBytes: number;
  /** For a write: what did not happen because the key was refused, after the method ran. */
  readonly skipped?: string;
}

/**
 * The engine's `E_INVALID_KEY` for a key a decorator derived, reported like {@link callKey}'s:
 * naming the decorator and method, what the `key` function returned, and the way out.
 */
export function keyRefused(site: KeySite, error: DistCacheError, origin: KeyOrigin): DistCacheError {
  const keys: readonly unknown[] = Array.isArray(origin.key) ? origin.key : [origin.key];
  const tooLong = keys.some(
    (key) => typeof key === 'string' && Buffer.byteLength(key, 'utf8') > origin.maxKeyBytes,
  );
  const returned = origin.fromKeyFunction ? ` (its \`key\` function returned ${shownValue(origin.key)})` : '';
  const skipped = origin.skipped === undefined ? '' : ` The method ran; ${origin.skipped}.`;
  const wayOut = tooLong
    ? `Give the decorator ${site.custom}, making a shorter key (a hash of the arguments, for ` +
      `example), or raise maxKeyBytes (${origin.maxKeyBytes}) in the DistCacheModule options`
    : origin.fromKeyFunction
      ? `Make the \`key\` function return ${site.expected}`
      : `Give the decorator ${site.custom}`;
  return new DistCacheError(
    'E_INVALID_KEY',
    `${site.where}: ${error.message}${returned}.${skipped} ${wayOut}`,
    {
      cause: error,
      details: { keySpace: site.keySpace, method: site.label },
    },
  );
}

/**
 * A `key` function that returned something that is not a key at all (`undefined`, a number):
 * said as such, rather than as the engine's complaint about the shape of what it was given.
 */
export function notAKey(site: KeySite, returned: unknown, skipped: string): DistCacheError {
  return new DistCacheError(
    'E_INVALID_KEY',
    `${site.where}: its \`key\` function returned ${shownValue(returned)}, not a key of keyspace ` +
      `"${site.keySpace}". The method ran; ${skipped}. Make the \`key\` function return ${site.expected}`,
    { details: { keySpace: site.keySpace, method: site.label } },
  );
}
