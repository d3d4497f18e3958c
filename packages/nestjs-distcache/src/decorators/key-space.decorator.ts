import type { FetchContext } from 'distcache-core';
import { KEYSPACE_METADATA } from '../distcache.constants';
import type { DecoratedKeySpaceSettings } from './decorator.types';

/** Options of `@KeySpace`: the keyspace name and its settings. */
export interface KeySpaceOptions extends DecoratedKeySpaceSettings {
  /** Letters, digits, `.`, `_`, `-` and `:`; starts with a letter or digit; at most 64 characters. */
  name: string;
}

/**
 * What a `@KeySpace` class implements: the engine's `DataSource` (`fetch`, optional `fetchMany`),
 * plus an optional `warmKeys()` that can use the provider's injected dependencies.
 */
export interface KeySpaceProvider<T = unknown> {
  /** Loads one key; resolve `undefined` for "not found". Pass `signal` on to the driver. */
  fetch(key: string, context: FetchContext): Promise<T | undefined> | T | undefined;
  /** Loads several keys in one call (used by `getMany`); absent keys are "not found". */
  fetchMany?(
    keys: readonly string[],
    context: FetchContext,
  ): Promise<ReadonlyMap<string, T | undefined>> | ReadonlyMap<string, T | undefined>;
  /** Keys this node loads at start for the keys it owns (overrides the `warmKeys` option). */
  warmKeys?(): readonly string[] | Promise<readonly string[]>;
}

/** What `@KeySpace` records on a class. */
export interface KeySpaceMetadata {
  readonly options: KeySpaceOptions;
}

/**
 * Declares a provider class as the data source of a keyspace. The module finds it at bootstrap
 * (through Nest's `DiscoveryService`) and registers the keyspace with the provider instance as its
 * source, so the class gets full dependency injection. The class must be a singleton provider.
 *
 * @throws DistCacheError `E_INVALID_OPTION` at bootstrap when the keyspace already has a data
 *   source or a setting is invalid (the message names the class)
 * @example
 * ```ts
 * @KeySpace({ name: 'users', ttl: '10m', negativeTtl: '30s' })
 * @Injectable()
 * export class UsersSource implements KeySpaceProvider<User> {
 *   constructor(private readonly users: UsersRepository) {}
 *
 *   fetch(id: string, { signal }: FetchContext): Promise<User | undefined> {
 *     return this.users.findById(id, { signal });
 *   }
 * }
 * ```
 */
export function KeySpace(
  options: KeySpaceOptions,
): (target: abstract new (...args: never[]) => KeySpaceProvider<unknown>) => void {
  return (target) => {
    const metadata: KeySpaceMetadata = { options };
    Reflect.defineMetadata(KEYSPACE_METADATA, metadata, target);
  };
}
