// The test application: a small catalogue service written the way a user would write it, with
// constructor injection resolved from decorator metadata. Every data-source call is recorded by
// the app that made it, so tests can tell which node ran a method body.
import {
  Body,
  Controller,
  type DynamicModule,
  Get,
  HttpCode,
  HttpException,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { type ClusterOptions, staticDiscovery } from 'distcache-core';
import {
  CacheEvict,
  CachePut,
  DistCacheModule,
  type DistCacheModuleOptions,
  DistCacheService,
  KeySpace,
  type KeySpaceProvider,
  ReadThrough,
} from '../../src';
import { DistCacheHealthIndicator } from '../../src/terminus';

export const NODE_NAME = 'NODE_NAME';
/** The catalogue's "database" of product names, shared by every app of a test cluster. */
export const CATALOG_DATABASE = 'CATALOG_DATABASE';

/** What the apps share, like the SQL database behind real replicas. A `Map` will do. */
export interface CatalogDatabase {
  get(id: string): string | undefined;
  set(id: string, name: string): unknown;
}

export interface Product {
  id: string;
  name: string;
  updatedAt: Date;
}

export interface SearchFilter {
  category: string;
  maxPrice?: number;
}

export interface Price {
  sku: string;
  cents: number;
  quotedBy: string;
}

/** A driver's error, as a database client would throw it. */
export class DatabaseError extends Error {
  readonly code = 'EDATABASE';
  override name = 'DatabaseError';
}

/** What a caller of `strictProduct` got, as the `/strict/:id/caught` route reports it. */
export interface CaughtError {
  httpException: boolean;
  status: number | undefined;
  response: unknown;
  name: string;
  message: string;
  code: unknown;
}

/** A gate tests can close to keep loads in flight. */
class Gate {
  private opened: Promise<void> = Promise.resolve();
  private openIt: (() => void) | undefined;

  close(): void {
    this.opened = new Promise((resolve) => (this.openIt = resolve));
  }

  open(): void {
    this.openIt?.();
    this.openIt = undefined;
  }

  pass(): Promise<void> {
    return this.opened;
  }
}

/** The "database": one per app, recording every call. */
@Injectable()
export class ProductRepository {
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  readonly gate = new Gate();

  constructor(@Inject(CATALOG_DATABASE) private readonly names: CatalogDatabase) {}

  async find(id: string): Promise<Product | undefined> {
    this.calls.push({ method: 'find', args: [id] });
    await this.gate.pass();
    if (!/^\d+$/.test(id)) return undefined;
    const name = this.names.get(id) ?? `Product ${id}`;
    return { id, name, updatedAt: new Date(Date.UTC(2026, 0, 1 + (Number(id) % 28))) };
  }

  async search(filter: SearchFilter, page: number): Promise<string[]> {
    this.calls.push({ method: 'search', args: [filter, page] });
    await this.gate.pass();
    return [`${filter.category}:${filter.maxPrice ?? 'any'}:page-${page}`];
  }

  rename(id: string, name: string): void {
    this.calls.push({ method: 'rename', args: [id, name] });
    this.names.set(id, name);
  }

  count(method: string, firstArg?: unknown): number {
    return this.calls.filter(
      (call) => call.method === method && (firstArg === undefined || call.args[0] === firstArg),
    ).length;
  }
}

@Injectable()
export class CatalogService {
  constructor(private readonly repository: ProductRepository) {}

  @ReadThrough('products', { ttl: '1m' })
  async product(id: string): Promise<Product | undefined> {
    return this.repository.find(id);
  }

  @ReadThrough('search', { ttl: '1m' })
  async search(filter: SearchFilter, page = 1): Promise<string[]> {
    return this.repository.search(filter, page);
  }

  /** Throws like a real service: 404 for an unknown id, a database error for ids `down-*`. */
  @ReadThrough('strict', { ttl: '1m' })
  async strictProduct(id: string): Promise<Product> {
    this.repository.calls.push({ method: 'strict', args: [id] });
    if (id.startsWith('down-')) throw new DatabaseError(`database unavailable for ${id}`);
    const product = await this.repository.find(id);
    if (product === undefined) throw new NotFoundException(`Product ${id} not found`);
    return product;
  }

  @CacheEvict('products', { key: (id: string) => id })
  async rename(id: string, name: string): Promise<void> {
    this.repository.rename(id, name);
  }

  @CachePut('products', { key: (product: Product) => product.id })
  async save(product: Product): Promise<Product> {
    this.repository.rename(product.id, product.name);
    return product;
  }
}

/** A dependency of the @KeySpace provider, to prove it gets DI. */
@Injectable()
export class PricingClient {
  readonly quoted: string[] = [];

  quote(sku: string): number {
    this.quoted.push(sku);
    return 100 * sku.length;
  }
}

@KeySpace({ name: 'prices', ttl: '1m' })
@Injectable()
export class PriceSource implements KeySpaceProvider<Price> {
  constructor(
    private readonly pricing: PricingClient,
    @Inject(NODE_NAME) private readonly nodeName: string,
  ) {}

  async fetch(sku: string): Promise<Price> {
    return { sku, cents: this.pricing.quote(sku), quotedBy: this.nodeName };
  }
}

@Controller()
export class CatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly repository: ProductRepository,
    private readonly cache: DistCacheService,
  ) {}

  @Get('products/:id')
  async product(@Param('id') id: string): Promise<Product & { updatedAtIsDate: boolean }> {
    const product = await this.catalog.product(id);
    if (product === undefined) throw new NotFoundException(`no product ${id}`);
    return { ...product, updatedAtIsDate: product.updatedAt instanceof Date };
  }

  /** Lets Nest answer what the method threw: an HttpException keeps its status. */
  @Get('strict/:id')
  strict(@Param('id') id: string): Promise<Product> {
    return this.catalog.strictProduct(id);
  }

  @Get('strict/:id/caught')
  async strictCaught(@Param('id') id: string): Promise<CaughtError | Product> {
    try {
      return await this.catalog.strictProduct(id);
    } catch (error) {
      const e = error as Error & { code?: unknown };
      const http = error instanceof HttpException;
      return {
        httpException: http,
        status: http ? error.getStatus() : undefined,
        response: http ? error.getResponse() : undefined,
        name: e.name,
        message: e.message,
        code: e.code,
      };
    }
  }

  @Post('products/:id/name')
  @HttpCode(204)
  async rename(@Param('id') id: string, @Body() body: { name: string }): Promise<void> {
    await this.catalog.rename(id, body.name);
  }

  /** Holds this app's "database" calls until `open`, so that tests can overlap loads. */
  @Post('gate/:action')
  @HttpCode(204)
  gate(@Param('action') action: 'open' | 'close'): void {
    if (action === 'close') this.repository.gate.close();
    else this.repository.gate.open();
  }

  @Get('calls/:method/:arg')
  calls(@Param('method') method: string, @Param('arg') arg: string): { count: number } {
    return { count: this.repository.count(method, arg) };
  }

  @Get('cluster')
  cluster(): { node: string; members: number; peers: Record<string, string> } {
    const stats = this.cache.stats();
    const peers = Object.fromEntries(this.cache.peers().map((peer) => [peer.id, peer.status]));
    return { node: stats.nodeName, members: stats.members, peers };
  }

  @Get('owner/:keySpace/:key')
  owner(@Param('keySpace') keySpace: string, @Param('key') key: string): { owner: string } {
    return { owner: this.cache.ownerOf(keySpace, key) };
  }
}

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly distcache: DistCacheHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.distcache.isHealthy('distcache')]);
  }
}

export interface CatalogAppOptions {
  nodeName: string;
  port: number;
  peers: readonly string[];
  clusterOptions?: ClusterOptions;
  /** `async`: options come from ConfigService through forRootAsync. @default 'sync' */
  config?: 'sync' | 'async';
  /** Shared by the apps of one cluster. @default a Map of this app only */
  database?: CatalogDatabase;
}

/** The root module of one node. */
@Module({})
export class CatalogModule {
  static register(options: CatalogAppOptions): DynamicModule {
    return {
      module: CatalogModule,
      imports: [cacheModule(options), TerminusModule],
      controllers: [CatalogController, HealthController],
      providers: [
        ProductRepository,
        CatalogService,
        PricingClient,
        PriceSource,
        DistCacheHealthIndicator,
        { provide: NODE_NAME, useValue: options.nodeName },
        { provide: CATALOG_DATABASE, useValue: options.database ?? new Map<string, string>() },
      ],
    };
  }
}

function cacheModule(options: CatalogAppOptions): DynamicModule {
  const clusterOptions = options.clusterOptions ?? {};
  if (options.config !== 'async') {
    return DistCacheModule.forRoot({
      nodeName: options.nodeName,
      host: '127.0.0.1',
      port: options.port,
      discovery: staticDiscovery({ peers: [...options.peers] }),
      clusterOptions,
    });
  }
  // What an application reads from its environment, as ConfigService sees it.
  const environment = {
    CACHE_NODE_NAME: options.nodeName,
    CACHE_PORT: String(options.port),
    CACHE_PEERS: options.peers.join(','),
  };
  return DistCacheModule.forRootAsync({
    isGlobal: true,
    imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => environment] })],
    inject: [ConfigService],
    useFactory: (config: ConfigService): DistCacheModuleOptions => ({
      nodeName: config.getOrThrow<string>('CACHE_NODE_NAME'),
      host: '127.0.0.1',
      port: Number(config.getOrThrow<string>('CACHE_PORT')),
      discovery: staticDiscovery({ peers: config.getOrThrow<string>('CACHE_PEERS').split(',') }),
      clusterOptions,
    }),
  });
}
