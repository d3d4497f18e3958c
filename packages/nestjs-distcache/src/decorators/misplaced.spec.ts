import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { MISPLACED_METADATA } from '../distcache.constants';
import { recordIfMisplaced } from './misplaced';

const recorded = (prototype: object): unknown => Reflect.getOwnMetadata(MISPLACED_METADATA, prototype);

describe('recordIfMisplaced', () => {
  it('records nothing for an instance method, with or without its descriptor', () => {
    class Service {
      async find(): Promise<void> {}
    }
    const descriptor = Object.getOwnPropertyDescriptor(Service.prototype, 'find');
    recordIfMisplaced(Service.prototype, 'find', descriptor, "@ReadThrough('a')");
    // Applied by hand in plain JavaScript, without the descriptor.
    recordIfMisplaced(Service.prototype, 'find', undefined, "@ReadThrough('a')");
    expect(recorded(Service.prototype)).toBeUndefined();
  });

  it('records accessors, properties and static methods on the prototype, in order', () => {
    class Service {
      static async load(): Promise<void> {}

      get value(): Promise<string> {
        return Promise.resolve('x');
      }
    }
    const accessor = Object.getOwnPropertyDescriptor(Service.prototype, 'value');
    recordIfMisplaced(Service.prototype, 'value', accessor, "@ReadThrough('a')");
    recordIfMisplaced(Service.prototype, 'arrow', undefined, "@CacheEvict('b')");
    const load = Object.getOwnPropertyDescriptor(Service, 'load');
    recordIfMisplaced(Service, 'load', load, "@CachePut('c')");
    expect(recorded(Service.prototype)).toEqual([
      { decorator: "@ReadThrough('a')", member: 'value', kind: 'accessor' },
      { decorator: "@CacheEvict('b')", member: 'arrow', kind: 'property' },
      { decorator: "@CachePut('c')", member: 'load', kind: 'static' },
    ]);
  });
});
