// Every type the published declarations mention must be nameable from a package entry, or
// TypeScript cannot write it into a user's declarations (TS2883: "cannot be named without a
// reference to 'PeerInfo' from '.../dist/engine.types-B0Wuy3MM.cjs'"). tsup puts shared types in
// hashed chunks; what an entry imports from a chunk must be exported by that entry or the main
// one, and what nestjs-distcache imports from distcache-core must be re-exported by its main entry
// (users of the Nest module may not import distcache-core). Reads the built dist/ of both packages.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));

interface Declarations {
  /** Names imported, by module specifier. */
  imports: Map<string, Set<string>>;
  exports: Set<string>;
}

function declarationsOf(file: string): Declarations {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const imports = new Map<string, Set<string>>();
  const exports = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const bindings = statement.importClause?.namedBindings;
      if (bindings === undefined || !ts.isNamedImports(bindings)) continue;
      const names = imports.get(statement.moduleSpecifier.text) ?? new Set<string>();
      for (const element of bindings.elements) names.add(element.name.text);
      imports.set(statement.moduleSpecifier.text, names);
    } else if (
      ts.isExportDeclaration(statement) &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const element of statement.exportClause.elements) exports.add(element.name.text);
    } else if (
      ts.canHaveModifiers(statement) &&
      ts.getModifiers(statement)?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword) &&
      'name' in statement &&
      statement.name !== undefined &&
      ts.isIdentifier(statement.name)
    ) {
      exports.add(statement.name.text);
    }
  }
  return { imports, exports };
}

/** The declaration files of a package's entries (dist/index.d.ts, dist/<subpath>/index.d.ts), both flavours. */
function entriesOf(name: string): string[] {
  const dist = join(packagesDir, name, 'dist');
  const subpaths = readdirSync(dist, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  return [dist, ...subpaths.map((entry) => join(dist, entry.name))].flatMap((dir) =>
    ['index.d.ts', 'index.d.cts'].map((file) => join(dir, file)),
  );
}

describe('the published declarations name only exported types', () => {
  it.each(['distcache-core', 'nestjs-distcache'])(
    '%s: what an entry takes from a chunk, an entry exports',
    (name) => {
      const main = entriesOf(name).filter((file) => /dist[\\/]index\.d\.c?ts$/.test(file));
      const mainExports = new Set(main.flatMap((file) => [...declarationsOf(file).exports]));
      const unnamed: string[] = [];
      for (const file of entriesOf(name)) {
        const { imports, exports } = declarationsOf(file);
        for (const [from, names] of imports) {
          if (!from.startsWith('.')) continue;
          for (const type of names)
            if (!exports.has(type) && !mainExports.has(type))
              unnamed.push(`${type} (${file.slice(packagesDir.length)} from ${from})`);
        }
      }
      expect(unnamed).toEqual([]);
    },
  );

  it('nestjs-distcache re-exports every distcache-core type its declarations use', () => {
    const missing: string[] = [];
    for (const file of entriesOf('nestjs-distcache').filter((entry) =>
      /dist[\\/]index\.d\.c?ts$/.test(entry),
    )) {
      const { imports, exports } = declarationsOf(file);
      for (const type of imports.get('distcache-core') ?? []) if (!exports.has(type)) missing.push(type);
    }
    expect(missing).toEqual([]);
  });
});
