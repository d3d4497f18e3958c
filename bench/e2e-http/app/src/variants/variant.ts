import type { DynamicModule, ForwardReference, Provider, Type } from '@nestjs/common';

/** What a variant adds to the app module: its cache module(s) and its `Catalogue` provider. */
export interface VariantParts {
  imports: Array<Type | DynamicModule | Promise<DynamicModule> | ForwardReference>;
  providers: Provider[];
}
