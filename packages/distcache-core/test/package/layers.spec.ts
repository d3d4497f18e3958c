// The folders of src/ are layers (layers.mjs): a folder imports only lower layers, so the folder
// graph has no cycle. ESLint enforces it file by file as you type; this test checks the whole
// import graph at once, the README's "Layers" list against layers.mjs, and that the check itself
// fails on a graph with a cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM without declarations, shared with eslint.config.mjs
import { LAYERS } from '../../layers.mjs';

const packageRoot = join(import.meta.dirname, '..', '..');
const srcRoot = join(packageRoot, 'src');
const layers = LAYERS as string[][];

type FolderGraph = Map<string, Map<string, string>>;

/** Every non-spec source file of src/, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The top folder of src/ a path lies in; undefined for files at the root of src/ (the entry points). */
function folderOf(path: string): string | undefined {
  const parts = relative(srcRoot, path).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
}

/** folder -> imported folder -> one file that imports it (for the failure message). */
function importGraph(): FolderGraph {
  const graph: FolderGraph = new Map();
  for (const file of sourceFiles(srcRoot)) {
    const from = folderOf(file);
    if (from === undefined) continue;
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = folderOf(resolve(dirname(file), fileName));
      if (to !== undefined && to !== from && !edges.has(to)) edges.set(to, relative(packageRoot, file));
    }
  }
  return graph;
}

/** One cycle of the graph as a path `a -> b -> a`, or undefined when it has none. */
function findCycle(graph: FolderGraph): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

const rankOf = (folder: string): number => layers.findIndex((layer) => layer.includes(folder));

describe('layers of distcache-core/src', () => {
  const graph = importGraph();

  it('lists every folder of src/ in layers.mjs', () => {
    const unlisted = [...graph.keys()].filter((folder) => rankOf(folder) < 0);
    expect(unlisted).toEqual([]);
  });

  it('has no import from a folder to its own layer or a layer above', () => {
    const upward: string[] = [];
    for (const [from, edges] of graph) {
      for (const [to, file] of edges) {
        if (rankOf(to) >= rankOf(from)) upward.push(`${from} -> ${to} (${file})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(findCycle(graph)).toBeUndefined();
  });

  it('finds a cycle when there is one (the check can fail)', () => {
    const cyclic: FolderGraph = new Map([
      ['engine', new Map([['cluster', 'a.ts']])],
      ['cluster', new Map([['telemetry', 'b.ts']])],
      ['telemetry', new Map([['engine', 'c.ts']])],
    ]);
    expect(findCycle(cyclic)).toEqual(['engine', 'cluster', 'telemetry', 'engine']);
  });

  it('matches the "Layers" list of the README', () => {
    const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
    const section = /### Layers\n([\s\S]*?)\n(?:#|\n[A-Z*])/.exec(readme)?.[1] ?? '';
    // One numbered line per layer, lowest first, its folders in backquotes.
    const listed = section
      .split('\n')
      .filter((line) => /^\d+\. /.test(line))
      .map((line) => [...line.matchAll(/`src\/([a-z]+)`/g)].map((match) => match[1]));
    expect(listed).toEqual(layers);
  });
});
