// The admin subpath as users get it: the built output behind the exports map, with import and
// require, and declaration files free of `any`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const packageRoot = join(import.meta.dirname, '..', '..');

function runNode(code: string, type: 'module' | 'commonjs'): string {
  const flag = type === 'module' ? '--input-type=module' : '--input-type=commonjs';
  return execFileSync(process.execPath, [flag, '-e', code], { cwd: packageRoot, encoding: 'utf8' }).trim();
}

describe('distcache-core/admin entry point', () => {
  it('loads with import and with require', () => {
    // String(): console.log colours numbers when the runner sets FORCE_COLOR (Nx does).
    const check = 'console.log(typeof m.adminServer, typeof m.AdminServer, String(m.DEFAULT_ADMIN_PORT))';
    expect(runNode(`const m = await import('distcache-core/admin'); ${check}`, 'module')).toBe(
      'function function 3321',
    );
    expect(runNode(`const m = require('distcache-core/admin'); ${check}`, 'commonjs')).toBe(
      'function function 3321',
    );
  });

  it('declares no `any`', () => {
    for (const file of ['dist/admin/index.d.ts', 'dist/admin/index.d.cts']) {
      const text = readFileSync(join(packageRoot, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(text, file).not.toMatch(/(?<![\w$])any(?![\w$])/);
    }
  });
});
