// What a reference must do to hand out what distcache hands out: a value decoded by distcache's
// default codec (Dates come back as Dates; the codec also carries Maps, Sets, BigInt and typed
// arrays) and deeply read-only (a caller cannot change what the next caller gets). The remote-hit
// and get-many scenarios run ioredis with this decode next to ioredis + `JSON.parse`, so that a
// result tells what the value contract costs apart from what the engine and its protocol cost.
//
// The freeze here is a plain recursive `Object.freeze` with a read-only prototype for Dates, the
// way distcache-core's own `deepFreeze` treats a product (it is internal to the package). It
// covers what the bench product holds (objects, arrays, strings, numbers, Dates); Maps, Sets and
// typed arrays, which distcache also hands out read-only or copied, are not handled here.
import { structuredCodec } from 'distcache-core';

const codec = structuredCodec();

const READ_ONLY_DATE = Object.freeze(
  Object.create(
    Date.prototype,
    Object.fromEntries(
      Object.getOwnPropertyNames(Date.prototype)
        .filter((name) => name.startsWith('set'))
        .map((name) => [
          name,
          {
            value: () => {
              throw new TypeError('read-only');
            },
          },
        ]),
    ),
  ),
);

function deepFreeze(value) {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  if (value instanceof Date) {
    Object.setPrototypeOf(value, READ_ONLY_DATE);
    return Object.freeze(value);
  }
  Object.freeze(value);
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else for (const key in value) deepFreeze(value[key]);
  return value;
}

/**
 * The Redis key of the distcache-encoded copy of the product stored as JSON under `redisKey`
 * (`...product:<i>` -> `...encoded:<i>`): as long as it, so both rows send the same bytes.
 */
export const contractKey = (redisKey) => redisKey.replace(/product:(\d+)$/, 'encoded:$1');

/** The bytes distcache's default codec writes for `value` (a Buffer, for a Redis SET). */
export const contractBytes = (value) => Buffer.from(codec.encode(value));

/** True when `product` (lib/product.mjs) is frozen all the way down, its Dates Dates. */
export const keepsContract = (product) =>
  Object.isFrozen(product) &&
  Object.isFrozen(product.price) &&
  Object.isFrozen(product.tags) &&
  product.createdAt instanceof Date &&
  Object.isFrozen(product.createdAt) &&
  product.updatedAt instanceof Date;

/** `bytes` decoded by distcache's default codec and deeply frozen. */
export const contractValue = (bytes) => deepFreeze(codec.decode(bytes));
