import { BadRequestException, Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { Catalogue } from './catalogue.js';
import type { Product } from './product.js';

/** `GET /products/:id`, the one endpoint the bench drives, identical in every variant. */
@Controller('products')
export class ProductsController {
  constructor(private readonly catalogue: Catalogue) {}

  @Get(':id')
  async one(@Param('id') id: string): Promise<Product> {
    if (!/^[1-9]\d{0,8}$/.test(id)) throw new BadRequestException('id must be a positive integer');
    const product = await this.catalogue.find(id);
    if (product === undefined) throw new NotFoundException(`product ${id} not found`);
    return product;
  }
}
