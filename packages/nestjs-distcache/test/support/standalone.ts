// One Nest application with a standalone engine (no peers), for bootstrap behaviour.
import { type INestApplication, Injectable, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DistCacheModule, type DistCacheModuleOptions, ReadThrough } from '../../src';

/** A Nest logger that keeps what it is given. */
export class RecordingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];

  log(message: unknown): void {
    this.lines.push({ level: 'log', message: String(message) });
  }

  error(message: unknown): void {
    this.lines.push({ level: 'error', message: String(message) });
  }

  warn(message: unknown): void {
    this.lines.push({ level: 'warn', message: String(message) });
  }

  debug(message: unknown): void {
    this.lines.push({ level: 'debug', message: String(message) });
  }

  verbose(message: unknown): void {
    this.lines.push({ level: 'verbose', message: String(message) });
  }

  warnings(): string[] {
    return this.lines.filter((line) => line.level === 'warn').map((line) => line.message);
  }
}

export interface StandaloneApp {
  readonly app: INestApplication;
  readonly logger: RecordingLogger;
}

/** Compiles an app around `metadata` plus `DistCacheModule.forRoot(options)`; does not init it. */
export async function createStandaloneApp(
  metadata: ModuleMetadata,
  options: DistCacheModuleOptions & { isGlobal?: boolean } = {},
): Promise<StandaloneApp> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [DistCacheModule.forRoot(options), ...(metadata.imports ?? [])],
  }).compile();
  const logger = new RecordingLogger();
  const app = moduleRef.createNestApplication({ logger });
  return { app, logger };
}

/** Inits an app that must fail bootstrap and returns the error, closing the app afterwards. */
export async function bootstrapError(
  metadata: ModuleMetadata,
  options?: DistCacheModuleOptions,
): Promise<Error> {
  const { app } = await createStandaloneApp(metadata, options);
  try {
    await app.init();
  } catch (error) {
    return error as Error;
  } finally {
    await app.close();
  }
  throw new Error('bootstrap succeeded but was expected to fail');
}

/**
 * Compiles a testing module that must fail when compiled (module options are checked then) and
 * returns the error, closing the module if it compiled after all.
 */
export function compileError(metadata: ModuleMetadata): Promise<unknown> {
  return Test.createTestingModule(metadata)
    .compile()
    .then(
      async (moduleRef) => {
        await moduleRef.close();
        throw new Error('compiled but was expected to fail');
      },
      (error: unknown) => error,
    );
}

const started: INestApplication[] = [];

/** Closes `app` in {@link closeStarted}. */
export function track(app: INestApplication): INestApplication {
  started.push(app);
  return app;
}

/** Compiles and inits an app, closed by {@link closeStarted} (call it in `afterEach`). */
export async function startStandalone(
  ...args: Parameters<typeof createStandaloneApp>
): Promise<StandaloneApp> {
  const standalone = await createStandaloneApp(...args);
  await track(standalone.app).init();
  return standalone;
}

export async function closeStarted(): Promise<void> {
  await Promise.all(started.splice(0).map((app) => app.close()));
}

/** Records calls, so tests can count how often a method body ran. */
@Injectable()
export class Counter {
  readonly calls: unknown[][] = [];

  record(...args: unknown[]): number {
    this.calls.push(args);
    return this.calls.length;
  }
}

/** A `@ReadThrough` service keyed by a number, with a call counter in each result. */
@Injectable()
export class ProductsService {
  constructor(private readonly counter: Counter) {}

  @ReadThrough('products')
  async find(id: number): Promise<{ id: number; call: number }> {
    return { id, call: this.counter.record(id) };
  }
}
