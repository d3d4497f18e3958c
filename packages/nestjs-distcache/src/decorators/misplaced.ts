import { MISPLACED_METADATA } from '../distcache.constants';

/** A method decorator of this package found on something other than an instance method. */
export interface MisplacedDecorator {
  /** The decorator as written, e.g. `@ReadThrough('products')`. */
  readonly decorator: string;
  readonly member: string;
  readonly kind: 'accessor' | 'property' | 'static';
}

/**
 * Records a method decorator put on a getter/setter, a property (an arrow function assigned in the
 * class body) or a static method, which compiles once the type error is suppressed or in plain
 * JavaScript. Nest's `MetadataScanner` lists instance methods only, so without this record the
 * decorator would be ignored without a word; bootstrap refuses it instead.
 */
export function recordIfMisplaced(
  target: object,
  propertyKey: string | symbol,
  descriptor: PropertyDescriptor | undefined,
  decorator: string,
): void {
  const isStatic = typeof target === 'function';
  // Applied by hand (plain JavaScript), the descriptor may be left out: read the member itself.
  // A property decorated in TypeScript has no member on the prototype yet.
  const found = descriptor ?? Object.getOwnPropertyDescriptor(target, propertyKey);
  if (!isStatic && typeof found?.value === 'function') return;
  const accessor = found?.get !== undefined || found?.set !== undefined;
  const kind = isStatic ? 'static' : accessor ? 'accessor' : 'property';
  // Static members decorate the class itself; the explorer reads the prototype of each provider.
  const prototype = isStatic ? (target as { prototype: object }).prototype : target;
  const previous = (Reflect.getOwnMetadata(MISPLACED_METADATA, prototype) ?? []) as MisplacedDecorator[];
  const entry: MisplacedDecorator = { decorator, member: String(propertyKey), kind };
  Reflect.defineMetadata(MISPLACED_METADATA, [...previous, entry], prototype);
}
