// The admin subpath as users get it: the built output behind the exports map, with import and
// require, declaration files free of `any`, and the same dashboard page the tests serve from src.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminServer, type AdminTarget } from '../../src/admin';

const packageRoot = join(import.meta.dirname, '..', '..');

/** Enough of an engine for the page (in the child processes; the same as `target` below). */
const TARGET_SOURCE = `{
  state: 'running',
  stats: () => ({ nodeName: 'n', keySpaces: {} }),
  peers: () => [],
  options: { clusterOptions: { minMembers: 1 } },
}`;

/** The dashboard page and its CSP as an admin server of module `m` serves them, as JSON. */
const servePage = `async (m, target) => {
  const server = m.adminServer(target, { port: 0 });
  await server.start();
  const answer = await fetch(server.url);
  const page = { body: await answer.text(), csp: answer.headers.get('content-security-policy') };
  await server.stop();
  return JSON.stringify(page);
}`;

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

  it('serves the page the source serves: the build bundles the dashboard script as the tests do', async () => {
    const target: AdminTarget = {
      state: 'running',
      stats: () => ({ nodeName: 'n', keySpaces: {} }) as unknown as ReturnType<AdminTarget['stats']>,
      peers: () => [],
      options: { clusterOptions: { minMembers: 1 } },
    };
    const server = adminServer(target, { port: 0 });
    await server.start();
    const answer = await fetch(server.url!);
    const fromSource = JSON.stringify({
      body: await answer.text(),
      csp: answer.headers.get('content-security-policy'),
    });
    await server.stop();
    expect(fromSource).toContain('distcache-admin-token');
    const esm = `const m = await import('distcache-core/admin'); console.log(await (${servePage})(m, ${TARGET_SOURCE}))`;
    expect(runNode(esm, 'module')).toBe(fromSource);
    const cjs = `const m = require('distcache-core/admin'); (${servePage})(m, ${TARGET_SOURCE}).then(console.log)`;
    expect(runNode(cjs, 'commonjs')).toBe(fromSource);
  });
});
