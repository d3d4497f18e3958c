import { MISPLACED_METADATA } from '../distcache.constants';
import type { MisplacedDecorator } from '../decorators/misplaced';
import { notAMethod } from './bootstrap-errors';

/**
 * Fails bootstrap when a method decorator of this package sits on a getter/setter, a property or a
 * static method of the class or one of its ancestors: it would have no effect.
 * @throws DistCacheError `E_INVALID_OPTION` naming the decorator, class and member
 */
export function checkMembers(prototype: object, className: string): void {
  let level: object | null = prototype;
  while (level !== null && level !== Object.prototype) {
    const misplaced = Reflect.getOwnMetadata(MISPLACED_METADATA, level) as MisplacedDecorator[] | undefined;
    const [first] = misplaced ?? [];
    if (first !== undefined) throw notAMethod(first, `${className}.${first.member}`);
    level = Object.getPrototypeOf(level) as object | null;
  }
}
