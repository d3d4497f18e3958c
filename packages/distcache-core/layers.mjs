// The layers of distcache-core/src, lowest first. A folder may import only folders of a LOWER
// layer: never one above it, never a sibling of its own layer. ESLint (eslint.config.mjs) turns
// this list into `no-restricted-imports` rules, and test/package/layers.spec.ts checks the real
// import graph against it and against the "Layers" list in README.md. Spec files are outside the
// layering: a test may import anything.
export const LAYERS = [
  ['errors'],
  ['util'],
  ['codec', 'hashing', 'storage', 'transport', 'datasource', 'discovery'],
  ['keyspace'],
  ['cluster'],
  ['telemetry'],
  ['engine'],
  ['admin', 'keyv', 'testing'],
];

/** The folders `folder` must not import: every folder of its own layer and of the layers above. */
export function forbiddenFor(folder) {
  const rank = LAYERS.findIndex((layer) => layer.includes(folder));
  if (rank < 0) throw new Error(`layers.mjs does not list the folder "${folder}"`);
  return LAYERS.slice(rank)
    .flat()
    .filter((other) => other !== folder);
}
