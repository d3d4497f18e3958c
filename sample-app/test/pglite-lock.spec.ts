// One process at a time may open a PGlite data directory. Before this check a second process (a
// node started by hand beside `npm start`, or a second launcher) opened the directory in use with
// no warning, and writes it acknowledged were lost (found by an outside tester).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER_FILE, PgliteDatabase } from '../src/database/pglite.database';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pglite-lock-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A node process that runs until killed; its pid stands for another launcher. */
async function otherProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

describe('PGlite data directory lock', () => {
  it('refuses a directory this process has open, and takes it once closed', async () => {
    const dir = freshDir();
    const first = await PgliteDatabase.open(dir);
    expect(readFileSync(join(dir, OWNER_FILE), 'utf8')).toBe(String(process.pid));
    await expect(PgliteDatabase.open(dir)).rejects.toThrow(
      `The PGlite database in ${dir} is open in process ${process.pid} (this one)`,
    );
    await first.close();
    const again = await PgliteDatabase.open(dir);
    await again.query('SELECT 1');
    await again.close();
  });

  it('refuses a directory another live process has open, and takes over one whose owner died', async () => {
    const dir = freshDir();
    const other = await otherProcess();
    writeFileSync(join(dir, OWNER_FILE), String(other.pid));
    await expect(PgliteDatabase.open(dir)).rejects.toThrow(
      /is open in process \d+ \(another npm start, or a node started by hand\): PGlite allows one process per directory/,
    );
    other.kill('SIGKILL');
    await once(other, 'exit');
    const taken = await PgliteDatabase.open(dir);
    expect(readFileSync(join(dir, OWNER_FILE), 'utf8')).toBe(String(process.pid));
    await taken.close();
  });
});
