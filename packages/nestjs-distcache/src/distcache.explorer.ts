import { Inject, Injectable, type OnModuleInit, Scope } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { DataSource, DistCacheEngine, KeySpaceDefinition, Logger } from 'distcache-core';
import {
  CACHE_WRITE_METADATA,
  DISTCACHE_ENGINE,
  KEYSPACE_METADATA,
  READ_THROUGH_METADATA,
} from './distcache.constants';
import type { CacheWriteMetadata, ReadThroughMetadata } from './decorators/decorator.types';
import type { KeySpaceMetadata, KeySpaceProvider } from './decorators/key-space.decorator';
import {
  duplicateSource,
  fromDecorator,
  missingFetch,
  notAsync,
  readThroughWithWrites,
  unknownKeySpace,
} from './explorer/bootstrap-errors';
import { type ResolvedCacheWrite, resolveCacheWrite, writeDecorator } from './explorer/cache-write.options';
import { wrapCacheWrites } from './explorer/cache-write.wiring';
import { checkMembers } from './explorer/member.check';
import { checkWriteKey } from './explorer/write-key.check';
import { type Method, returnsPromise } from './explorer/method-wiring';
import {
  checkReadThrough,
  type MethodSite,
  registerReadThroughKeySpace,
  wrapReadThrough,
} from './explorer/read-through.wiring';

type InstanceWrapper = ReturnType<DiscoveryService['getProviders']>[number];

interface DecoratedMethod {
  readonly name: string;
  readonly readThrough: ReadThroughMetadata | undefined;
  readonly writes: readonly CacheWriteMetadata[];
}

/** A singleton provider instance carrying distcache decorators. */
interface Candidate {
  readonly instance: object;
  readonly prototype: object;
  readonly className: string;
  readonly keySpace: KeySpaceMetadata | undefined;
  readonly methods: readonly DecoratedMethod[];
}

/** Who supplies the data source of a keyspace, to detect a second one. */
interface SourceOrigin {
  readonly label: string;
  readonly prototype: object | undefined;
  readonly method: string | undefined;
  /** Set when a `@ReadThrough` method is the source. */
  readonly readThrough?: ReadThroughMetadata;
}

/**
 * Wires the decorators at `onModuleInit`, when every provider exists and before the engine starts
 * (`onApplicationBootstrap`): registers one keyspace per `@KeySpace` class and `@ReadThrough`
 * method, then replaces decorated methods on their instances. Problems that would make the cache
 * wrong fail bootstrap; providers it cannot serve (request-scoped, transient, controllers) are
 * reported with a warning and left alone.
 */
@Injectable()
export class DistCacheExplorer implements OnModuleInit {
  /** The engine's logger: the module's `logger` option, or Nest's `Logger` (context `DistCache`). */
  private readonly logger: Logger;
  /** Keyspaces declared by decorators, with where: registered again when deleted. */
  private readonly declared = new Map<string, { definition: KeySpaceDefinition<unknown>; where: string }>();

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(DISTCACHE_ENGINE) private readonly engine: DistCacheEngine,
  ) {
    this.logger = engine.options.logger;
  }

  onModuleInit(): void {
    const candidates = this.collectProviders();
    const origins = new Map<string, SourceOrigin>(
      this.engine
        .keySpaces()
        .map((name) => [
          name,
          { label: 'the keySpaces of DistCacheModule options', prototype: undefined, method: undefined },
        ]),
    );
    for (const candidate of candidates) {
      if (candidate.keySpace !== undefined)
        this.registerKeySpaceProvider(candidate, candidate.keySpace, origins);
      for (const method of candidate.methods) {
        if (method.readThrough !== undefined)
          this.wireReadThrough(candidate, method, method.readThrough, origins);
      }
    }
    // Writes last: their keyspaces may come from any provider, in any module.
    for (const candidate of candidates) {
      for (const method of candidate.methods) {
        if (method.writes.length > 0) this.wireWrites(candidate, method, origins);
      }
    }
    this.warnAboutControllers();
    this.engine.on('keySpace', (event) => {
      if (event.type === 'deleted') this.restore(event.name);
    });
  }

  /**
   * A decorated method or class keeps working when its keyspace is deleted (by this node or
   * another): the keyspace comes back at once, empty, with the decorator's settings. The methods
   * were wired to it at bootstrap and would otherwise fail with `E_KEYSPACE_NOT_FOUND` for good.
   */
  private restore(name: string): void {
    const declared = this.declared.get(name);
    if (declared === undefined || this.engine.state === 'stopped' || this.engine.state === 'stopping') return;
    if (this.engine.keySpaces().includes(name)) return;
    this.engine.addKeySpace(declared.definition);
    this.logger.info(
      `keyspace "${name}" was deleted and registered again, empty, since ${declared.where} declares it ` +
        '(DistCacheService.clear() empties a keyspace without removing it)',
    );
  }

  private collectProviders(): Candidate[] {
    const seen = new WeakSet<object>();
    const candidates: Candidate[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.isAlias) continue;
      if (wrapper.isTransient || !wrapper.isDependencyTreeStatic()) {
        this.warnAboutScope(wrapper);
        continue;
      }
      const instance: unknown = wrapper.instance;
      if (typeof instance !== 'object' || instance === null || seen.has(instance)) continue;
      seen.add(instance);
      const candidate = this.inspect(instance);
      if (candidate !== undefined) candidates.push(candidate);
    }
    return candidates;
  }

  private inspect(instance: object): Candidate | undefined {
    const prototype = Object.getPrototypeOf(instance) as object | null;
    if (prototype === null) return undefined;
    const type = prototype.constructor as { name?: string } | undefined;
    const className = type?.name ?? 'anonymous';
    checkMembers(prototype, className);
    const keySpace =
      type === undefined
        ? undefined
        : (Reflect.getMetadata(KEYSPACE_METADATA, type) as KeySpaceMetadata | undefined);
    const methods = this.decoratedMethods(prototype);
    if (keySpace === undefined && methods.length === 0) return undefined;
    return { instance, prototype, className, keySpace, methods };
  }

  private decoratedMethods(prototype: object): DecoratedMethod[] {
    const found: DecoratedMethod[] = [];
    for (const name of this.scanner.getAllMethodNames(prototype)) {
      const readThrough = Reflect.getMetadata(READ_THROUGH_METADATA, prototype, name) as
        ReadThroughMetadata | undefined;
      const writes = (Reflect.getMetadata(CACHE_WRITE_METADATA, prototype, name) ??
        []) as CacheWriteMetadata[];
      if (readThrough !== undefined || writes.length > 0) found.push({ name, readThrough, writes });
    }
    return found;
  }

  private registerKeySpaceProvider(
    candidate: Candidate,
    metadata: KeySpaceMetadata,
    origins: Map<string, SourceOrigin>,
  ): void {
    const { name } = metadata.options;
    const where = `@KeySpace('${name}') on ${candidate.className}`;
    const existing = origins.get(name);
    // The same class provided in several modules: the first instance is the source.
    if (existing?.prototype === candidate.prototype && existing.method === undefined) return;
    if (existing !== undefined)
      throw duplicateSource(name, existing.label, `@KeySpace class ${candidate.className}`);
    const provider = candidate.instance as Partial<KeySpaceProvider>;
    const { fetch, fetchMany, warmKeys } = provider;
    if (typeof fetch !== 'function') throw missingFetch(where);
    const dataSource: DataSource<unknown> = { fetch: (key, context) => fetch.call(provider, key, context) };
    if (typeof fetchMany === 'function')
      dataSource.fetchMany = (keys, context) => fetchMany.call(provider, keys, context);
    const definition: KeySpaceDefinition<unknown> = { ...metadata.options, dataSource };
    if (typeof warmKeys === 'function') definition.warmKeys = () => warmKeys.call(provider);
    try {
      this.engine.addKeySpace(definition);
    } catch (error) {
      throw fromDecorator(where, error);
    }
    this.declared.set(name, { definition, where });
    origins.set(name, {
      label: `@KeySpace class ${candidate.className}`,
      prototype: candidate.prototype,
      method: undefined,
    });
  }

  private wireReadThrough(
    candidate: Candidate,
    method: DecoratedMethod,
    metadata: ReadThroughMetadata,
    origins: Map<string, SourceOrigin>,
  ): void {
    const site = this.site(candidate, method.name);
    const where = `@ReadThrough('${metadata.keySpace}') on ${site.label}`;
    if (method.writes.length > 0) throw readThroughWithWrites(where);
    if (!returnsPromise(site.prototype, site.name, site.original)) throw notAsync(where, site.label);
    checkReadThrough(where, metadata);
    const existing = origins.get(metadata.keySpace);
    const sameMethod = existing?.prototype === candidate.prototype && existing.method === method.name;
    if (existing !== undefined && !sameMethod) {
      throw duplicateSource(metadata.keySpace, existing.label, `@ReadThrough on ${site.label}`);
    }
    if (existing === undefined) {
      const definition = registerReadThroughKeySpace(this.engine, site, metadata, where);
      this.declared.set(metadata.keySpace, { definition, where });
      origins.set(metadata.keySpace, {
        label: `@ReadThrough on ${site.label}`,
        prototype: candidate.prototype,
        method: method.name,
        readThrough: metadata,
      });
    }
    wrapReadThrough(this.engine, site, metadata);
  }

  private wireWrites(
    candidate: Candidate,
    method: DecoratedMethod,
    origins: ReadonlyMap<string, SourceOrigin>,
  ): void {
    const site = this.site(candidate, method.name);
    const known = this.engine.keySpaces();
    const resolved: ResolvedCacheWrite[] = [];
    for (const metadata of method.writes) {
      const where = `${writeDecorator(metadata.kind)}('${metadata.keySpace}') on ${site.label}`;
      if (!known.includes(metadata.keySpace)) throw unknownKeySpace(where, metadata.keySpace, known);
      if (!returnsPromise(site.prototype, site.name, site.original)) throw notAsync(where, site.label);
      const write = resolveCacheWrite(where, metadata);
      resolved.push(write);
      const origin = origins.get(write.keySpace);
      if (
        origin?.readThrough !== undefined &&
        origin.prototype !== undefined &&
        origin.method !== undefined
      ) {
        const reader = {
          prototype: origin.prototype,
          name: origin.method,
          label: origin.label.replace(/^@ReadThrough on /, ''),
        };
        checkWriteKey(where, write, site, reader, origin.readThrough);
      }
    }
    wrapCacheWrites(this.engine, site, resolved, this.logger);
  }

  private site(candidate: Candidate, name: string): MethodSite {
    const original = (candidate.instance as Record<string, unknown>)[name] as Method;
    return {
      instance: candidate.instance,
      prototype: candidate.prototype,
      name,
      original,
      label: `${candidate.className}.${name}`,
    };
  }

  private warnAboutScope(wrapper: InstanceWrapper): void {
    // Factory providers have the factory as metatype; only classes can carry our decorators.
    if (wrapper.inject !== undefined && wrapper.inject !== null) return;
    const type = wrapper.metatype;
    if (typeof type !== 'function' || !this.isDecorated(type)) return;
    const scope = wrapper.isTransient
      ? 'transient'
      : wrapper.scope === Scope.REQUEST
        ? 'request-scoped'
        : 'request-scoped through a dependency';
    this.logger.warn(
      `${type.name} is ${scope}: its distcache decorators are ignored. @KeySpace, @ReadThrough, ` +
        '@CacheEvict and @CachePut need a singleton provider, since the cache calls one instance for ' +
        'every request of the cluster',
    );
  }

  private warnAboutControllers(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype;
      if (typeof type !== 'function' || !this.isDecorated(type)) continue;
      this.logger.warn(
        `${type.name} is a controller: its distcache decorators are ignored, because Nest binds route ` +
          'handlers before modules initialise. Put @ReadThrough, @CacheEvict and @CachePut on a provider ' +
          'method and call it from the controller',
      );
    }
  }

  private isDecorated(type: object): boolean {
    const prototype = (type as { prototype?: object }).prototype;
    if (Reflect.getMetadata(KEYSPACE_METADATA, type) !== undefined) return true;
    return prototype !== undefined && this.decoratedMethods(prototype).length > 0;
  }
}
