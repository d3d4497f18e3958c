// Checks the package as users get it: the built output behind the exports map, loaded by both
// module systems, with declaration files free of `any` and no Nest import anywhere in the source.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const packageRoot = join(import.meta.dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return path.endsWith(suffix) ? [path] : [];
  });
}

/** A declaration line without comments and string literals (a literal 'any' is not the type). */
function withoutCommentsAndStrings(line: string): string {
  return line.replace(/'[^']*'|"[^"]*"/g, '').replace(/\/\/.*|\/?\*.*$/g, '');
}

function runNode(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(
    process.execPath,
    [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code],
    {
      cwd: packageRoot,
      encoding: 'utf8',
    },
  ).trim();
}

describe('public surface', () => {
  it('loads through the exports map with import and with require', () => {
    const probe = (load: string) =>
      `${load}; const e = new m.DistCacheEngine({ keySpaces: [m.defineKeySpace({ name: 'a' })] }); console.log(typeof m.isDistCacheError, e.state);`;
    expect(runNode(probe("const m = await import('distcache-core')"), 'module')).toBe('function idle');
    expect(runNode(probe("const m = require('distcache-core')"), 'commonjs')).toBe('function idle');
    expect(
      runNode("const t = require('distcache-core/testing'); console.log(typeof t.ManualClock)", 'commonjs'),
    ).toBe('function');
    for (const [entry, name] of [
      ['dns', 'dnsDiscovery'],
      ['kubernetes', 'kubernetesDiscovery'],
      ['nats', 'natsDiscovery'],
      ['keyv', 'KeyvDistCache'],
    ] as const) {
      expect(
        runNode(`console.log(typeof require('distcache-core/${entry}').${name})`, 'commonjs'),
        entry,
      ).toBe('function');
      const esm = `const m = await import('distcache-core/${entry}'); console.log(typeof m.${name})`;
      expect(runNode(esm, 'module'), entry).toBe('function');
    }
  });

  it('has no `any` in its declaration files', () => {
    const declarations = filesUnder(join(packageRoot, 'dist'), '.d.ts');
    expect(declarations.length).toBeGreaterThan(0);
    for (const file of declarations) {
      const offending = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => /(?<![\w$])any(?![\w$])/.test(withoutCommentsAndStrings(line)));
      expect(offending, file).toEqual([]);
    }
  });

  it('never imports or depends on @nestjs/*', () => {
    for (const file of filesUnder(join(packageRoot, 'src'), '.ts')) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/from ['"]@nestjs\//);
    }
    const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    expect(deps.filter((name) => name.startsWith('@nestjs/'))).toEqual([]);
  });
});
