import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Injectable,
  NotFoundException,
  Param,
  type PipeTransform,
  Put,
  Query,
} from '@nestjs/common';
import type { CategorySummary, Product, ProductPatch } from './product.js';
import { ProductsService } from './products.service.js';

const MAX_IDS = 200;
/** Ids are PostgreSQL `integer`s: a larger number failed in the database with a 500. */
const MAX_ID = 2_147_483_647;
const MAX_CATEGORY_CHARS = 100;

/** A product id in the path: a decimal integer the `integer` column can hold. */
@Injectable()
class ProductIdPipe implements PipeTransform<string, number> {
  transform(raw: string): number {
    if (!/^-?\d{1,10}$/.test(raw) || Math.abs(Number(raw)) > MAX_ID)
      throw new BadRequestException(`id must be an integer from -${MAX_ID} to ${MAX_ID}`);
    return Number(raw);
  }
}

/**
 * A category name in the path. Checked here rather than left to the cache and the database: a
 * NUL character failed in PostgreSQL, a name over the cache's key limit with E_INVALID_KEY, both
 * as 500s.
 */
function checkCategory(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > MAX_CATEGORY_CHARS || /[\u0000-\u001f\u007f]/.test(name))
    throw new BadRequestException(
      `category must be 1-${MAX_CATEGORY_CHARS} characters without control characters`,
    );
  return name;
}

function parseIds(raw: unknown): number[] {
  // `?ids=1&ids=2` arrives as an array (and `?ids[a]=1` as an object): a 500 from `trim` before.
  if (raw !== undefined && typeof raw !== 'string')
    throw new BadRequestException('ids must be given once, comma-separated, e.g. ?ids=1,2,3');
  if (raw === undefined || raw.trim() === '')
    throw new BadRequestException('ids is required, e.g. ?ids=1,2,3');
  const parts = raw.split(',').map((part) => part.trim());
  if (parts.length > MAX_IDS) throw new BadRequestException(`at most ${MAX_IDS} ids per request`);
  return parts.map((part) => {
    if (!/^\d{1,9}$/.test(part)) throw new BadRequestException(`invalid id "${part}"`);
    return Number(part);
  });
}

/** Largest value of the `stock` column (PostgreSQL `integer`). */
const MAX_STOCK = 2_147_483_647;

function parsePatch(body: unknown): ProductPatch {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException('body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const allowed = new Set(['name', 'price', 'stock', 'description']);
  const unknown = Object.keys(input).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw new BadRequestException(`unknown field(s): ${unknown.join(', ')}`);
  const patch: ProductPatch = {};
  for (const field of ['name', 'description'] as const) {
    const value = input[field];
    if (value === undefined) continue;
    // A NUL is refused by PostgreSQL's text type (a 500 before); other control characters but
    // tab and newline have no place in a product's text either.
    // eslint-disable-next-line no-control-regex
    const control = typeof value === 'string' && /[\u0000-\u0008\u000b-\u001f\u007f]/.test(value);
    if (typeof value !== 'string' || value.trim() === '' || value.length > 500 || control) {
      throw new BadRequestException(
        `${field} must be a non-empty string of at most 500 characters without control characters`,
      );
    }
    patch[field] = value;
  }
  if (input.price !== undefined) {
    if (
      typeof input.price !== 'number' ||
      !Number.isFinite(input.price) ||
      input.price < 0 ||
      input.price > 1e7
    ) {
      throw new BadRequestException('price must be a number from 0 to 10000000');
    }
    patch.price = input.price;
  }
  if (input.stock !== undefined) {
    // The column is a PostgreSQL integer: past 2^31 - 1 the update failed with a 500.
    if (
      !Number.isInteger(input.stock) ||
      (input.stock as number) < 0 ||
      (input.stock as number) > MAX_STOCK
    ) {
      throw new BadRequestException(`stock must be an integer from 0 to ${MAX_STOCK}`);
    }
    patch.stock = input.stock as number;
  }
  if (Object.keys(patch).length === 0) throw new BadRequestException('nothing to update');
  return patch;
}

@Controller()
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Get('products')
  async many(@Query('ids') ids: unknown): Promise<{ products: Product[]; missing: number[] }> {
    const found = await this.products.findMany(parseIds(ids));
    const products: Product[] = [];
    const missing: number[] = [];
    for (const [id, product] of found) {
      if (product === undefined) missing.push(id);
      else products.push(product);
    }
    return { products, missing };
  }

  @Get('products/:id')
  async one(@Param('id', ProductIdPipe) id: number): Promise<Product> {
    const product = await this.products.find(id);
    if (product === undefined) throw new NotFoundException(`product ${id} not found`);
    return product;
  }

  @Put('products/:id')
  async update(@Param('id', ProductIdPipe) id: number, @Body() body: unknown): Promise<Product> {
    const product = await this.products.update(id, parsePatch(body));
    if (product === undefined) throw new NotFoundException(`product ${id} not found`);
    return product;
  }

  @Get('categories/:name')
  async category(@Param('name') name: string): Promise<CategorySummary> {
    const summary = await this.products.categorySummary(checkCategory(name));
    if (summary === undefined) throw new NotFoundException(`category ${name} not found`);
    return summary;
  }
}
