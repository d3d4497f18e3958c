import { DistCacheError, isDistCacheError } from 'distcache-core';
import type { MisplacedDecorator } from '../decorators/misplaced';
import { shownValue } from './shown-value';

// Messages of the errors that fail bootstrap. Each names the decorator, the keyspace and the
// class and method, so the stack trace is not needed to find the culprit.

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): DistCacheError {
  return new DistCacheError('E_INVALID_OPTION', message, { details, cause });
}

export function notAsync(where: string, label: string): DistCacheError {
  return invalid(
    `${where}: ${label} must be async (or declare a Promise return type), because every call now ` +
      'goes through the cache and resolves later',
    { method: label },
  );
}

export function notAMethod(misplaced: MisplacedDecorator, label: string): DistCacheError {
  const what = {
    accessor: 'a getter or setter',
    property: 'a property (an arrow function assigned in the class body?)',
    static: 'a static method',
  }[misplaced.kind];
  return invalid(
    `${misplaced.decorator} on ${label}: ${label} is ${what}, not an instance method, so the decorator ` +
      `would have no effect. Make it an async method of the class, async ${misplaced.member}(...) { ... }, ` +
      'and call it on the injected provider',
    { method: label, kind: misplaced.kind },
  );
}

export function duplicateSource(keySpace: string, first: string, second: string): DistCacheError {
  return invalid(
    `keyspace "${keySpace}" has two data sources: ${first} and ${second}. A keyspace has exactly one ` +
      'data source; give one of them another keyspace name',
    { keySpace, first, second },
  );
}

export function unknownKeySpace(where: string, keySpace: string, known: readonly string[]): DistCacheError {
  const list = known.length === 0 ? 'none' : known.join(', ');
  return invalid(
    `${where}: no keyspace "${keySpace}" is registered (known: ${list}). Declare it with ` +
      '@ReadThrough, @KeySpace or the keySpaces of DistCacheModule.forRoot()',
    { keySpace, known },
  );
}

export function keyWithoutArgs(where: string): DistCacheError {
  return invalid(
    `${where}: give both \`key\` and \`args\` (or neither): the node that owns a key rebuilds the ` +
      'arguments from the key alone to call the method',
    {},
  );
}

export function readThroughWithWrites(where: string): DistCacheError {
  return invalid(`${where}: @ReadThrough cannot be combined with @CacheEvict or @CachePut on one method`, {});
}

export function missingFetch(where: string): DistCacheError {
  return invalid(`${where}: the class has no fetch(key, context) method to load keys with`, {});
}

/**
 * `isGlobal` returned by a `forRootAsync` factory: the module's scope is decided before the factory
 * runs, so it cannot come from there, and the engine does not know the option.
 */
export function isGlobalFromFactory(): DistCacheError {
  return invalid(
    'Invalid option "isGlobal": it configures the module, not the engine, so the options that ' +
      'useFactory, useClass or useExisting return cannot carry it. Give it beside them: ' +
      'DistCacheModule.forRootAsync({ isGlobal: true, imports, inject, useFactory })',
    { field: 'isGlobal' },
  );
}

/**
 * A field of a decorator's options that is not one, or not of its type, worded like the core's
 * option errors (`Invalid option "ttl": ...`, `details.path`) after the decorator and method.
 */
export function invalidDecoratorOption(where: string, path: string, problem: string): DistCacheError {
  return invalid(`${where}: Invalid option "${path}": ${problem}`, { path });
}

/** {@link invalidDecoratorOption} for a value of the wrong type, shown in the message. */
export function wrongDecoratorOption(
  where: string,
  path: string,
  expected: string,
  value: unknown,
): DistCacheError {
  return invalidDecoratorOption(where, path, `must be ${expected} (got ${shownValue(value)})`);
}

/**
 * The options of `forRoot()`, or what the `forRootAsync()` factory returned, are not an object:
 * `forRoot(null)`, a `useFactory` that forgot to return. Worded like the core's option errors.
 */
export function moduleOptionsNotObject(source: 'forRoot' | 'factory', value: unknown): DistCacheError {
  const got = `(got ${shownValue(value)})`;
  const message =
    source === 'forRoot'
      ? `DistCacheModule.forRoot() takes an object of engine options ${got}; forRoot({}) makes a ` +
        'standalone node with every default'
      : 'the options of DistCacheModule.forRootAsync() must be an object of engine options, but its ' +
        `useFactory (or the createDistCacheOptions() of its useClass or useExisting) returned ${shownValue(value)}. ` +
        'Does the factory return them? (useFactory: (config) => ({ port: ... }), with parentheses ' +
        'around the object)';
  return invalid(`Invalid option "options": ${message}`, { path: 'options' });
}

/** `forRootAsync()` without an object naming exactly one way to make the options. */
export function asyncOptionsWithoutFactory(value: unknown): DistCacheError {
  return invalid(
    'Invalid option "options": DistCacheModule.forRootAsync() takes { imports?, inject?, isGlobal? } ' +
      `and exactly one of useFactory, useClass or useExisting (got ${shownValue(value)})`,
    { path: 'options' },
  );
}

/**
 * `DistCacheModule.forRoot()`/`forRootAsync()` imported more than once with different options:
 * two engines, every decorated method wrapped twice. `imports` describes each.
 */
export function importedTwice(imports: readonly string[]): DistCacheError {
  return invalid(
    `DistCacheModule.forRoot() (or forRootAsync()) is imported ${imports.length} times in this ` +
      `application: ${imports.join('; ')}. Each would start its own engine and wrap every decorated ` +
      'method again. Import it once, in the root module, with isGlobal: true so that every module can ' +
      'inject DistCacheService and the engine; or import it in one module of your own that exports ' +
      'DistCacheModule, and import that module where it is needed',
    { imports },
  );
}

/** Prefixes an engine error (an invalid keyspace setting) with the decorator that caused it. */
export function fromDecorator(where: string, error: unknown): unknown {
  if (!isDistCacheError(error)) return error;
  return new DistCacheError(error.code, `${where}: ${error.message}`, {
    cause: error,
    details: { ...error.details },
  });
}

/**
 * A `@CacheEvict`/`@CachePut` without `key` encodes its own arguments; the `@ReadThrough` of its
 * keyspace caches under another key, so the write would miss, silently, every time.
 */
export function writeKeyMismatch(
  where: string,
  writer: string,
  writerParams: string,
  reader: string,
  readerParams: string,
  why: 'parameters' | 'custom-key',
): DistCacheError {
  const reason =
    why === 'custom-key'
      ? `${reader} derives its keys with its own \`key\` function`
      : `${writer}(${writerParams}) and ${reader}(${readerParams}) take different parameters`;
  return invalid(
    `${where} has no \`key\`, so it uses the key ${writer}'s own arguments encode to, but ${reason}: ` +
      `that key is never one ${reader} cached, and the stale entry would stay. Give it a \`key\` ` +
      `function of ${writer}'s arguments that returns the key ${reader} reads, for example ` +
      `{ key: (id: string, ...rest: unknown[]) => id } when ${reader} takes the id`,
    { writer, reader },
  );
}
