import { readFileSync, writeFileSync } from 'node:fs';
import type { CatalogDatabase } from './catalog.app';

/** The catalogue "database" of child-process apps: one JSON file they all read and write. */
export class FileDatabase implements CatalogDatabase {
  constructor(private readonly path: string) {}

  get(id: string): string | undefined {
    return this.read()[id];
  }

  set(id: string, name: string): void {
    writeFileSync(this.path, JSON.stringify({ ...this.read(), [id]: name }));
  }

  private read(): Record<string, string> {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  }
}
