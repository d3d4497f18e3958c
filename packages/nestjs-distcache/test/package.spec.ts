// The built package, as users install it: both module formats, the Terminus subpath, and a plain
// JavaScript application without decorator metadata (the library injects with explicit tokens).
// The Nx test target builds the package first.
import { createRequire } from 'node:module';
import { Inject, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import type * as PackageApi from '../src';

const require = createRequire(import.meta.url);

describe('the built package', () => {
  it('exports the same names from its ESM and CommonJS builds, the Terminus indicator from its own entry', async () => {
    const esm = await import('nestjs-distcache');
    const cjs = require('nestjs-distcache') as Record<string, unknown>;
    const expected = Object.keys(await import('../src')).sort();
    expect(Object.keys(esm).sort()).toEqual(expected);
    expect(Object.keys(cjs).sort()).toEqual(expected);
    expect(Object.keys(await import('nestjs-distcache/terminus'))).toEqual(['DistCacheHealthIndicator']);
    expect(Object.keys(require('nestjs-distcache/terminus') as object)).toEqual(['DistCacheHealthIndicator']);
    expect(esm).not.toHaveProperty('DistCacheHealthIndicator');
  });

  it('runs a plain JavaScript app (CommonJS build, no decorator metadata)', async () => {
    const { DistCacheModule, DistCacheService, ReadThrough } =
      require('nestjs-distcache') as typeof PackageApi;
    // What a JavaScript user writes: decorators applied by hand, no design:paramtypes.
    class Repository {
      calls = 0;
      find(id: number) {
        this.calls += 1;
        return { id, at: new Date(Date.UTC(2026, 0, id)) };
      }
    }
    Injectable()(Repository);
    class Items {
      constructor(readonly repository: Repository) {}
      async find(id: number) {
        return this.repository.find(id);
      }
    }
    Inject(Repository)(Items, undefined, 0);
    ReadThrough('items')(Items.prototype, 'find', Object.getOwnPropertyDescriptor(Items.prototype, 'find')!);
    Injectable()(Items);

    const moduleRef = await Test.createTestingModule({
      imports: [DistCacheModule.forRoot({})],
      providers: [Repository, Items],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const items = app.get(Items);
      expect(await items.find(3)).toEqual({ id: 3, at: new Date(Date.UTC(2026, 0, 3)) });
      expect(await items.find(3)).toEqual({ id: 3, at: new Date(Date.UTC(2026, 0, 3)) });
      expect(app.get(Repository).calls).toBe(1);
      // Without metadata the parameter type is unknown: the number is keyed as JSON, and exact.
      expect(app.get(DistCacheService).stats().keySpaces.items).toMatchObject({ items: 1, loads: 1 });
      expect(await app.get(DistCacheService).get('items', '[3]')).toMatchObject({ id: 3 });
    } finally {
      await app.close();
    }
  });
});
