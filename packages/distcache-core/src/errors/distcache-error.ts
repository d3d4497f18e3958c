import type { DistCacheErrorCode } from './error-codes';

// A global symbol rather than `instanceof`, so that the guard works when two copies of the package
// are installed (ESM and CJS builds, or nested node_modules).
const BRAND = Symbol.for('distcache.error');

/**
 * The one error class distcache throws. `code` is stable; `message` is for humans; `cause` holds
 * the underlying error (a data-source exception, an abort reason, a socket error).
 */
export class DistCacheError extends Error {
  readonly code: DistCacheErrorCode;
  /** Extra machine-readable facts (keyspace, key, field path, limit...). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: DistCacheErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DistCacheError';
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * True when `error` is a {@link DistCacheError}, optionally with the given code. Works across
 * duplicate installs of the package.
 */
export function isDistCacheError(error: unknown, code?: DistCacheErrorCode): error is DistCacheError {
  if (typeof error !== 'object' || error === null) return false;
  if (readProperty(error, BRAND) !== true) return false;
  return code === undefined || (error as DistCacheError).code === code;
}

/**
 * A property of something thrown (a data source may throw anything, a proxy whose traps throw
 * included); undefined when reading it throws.
 */
export function readProperty(value: object, key: PropertyKey): unknown {
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}
