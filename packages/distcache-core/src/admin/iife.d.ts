/**
 * `import code from './x.ts?iife'`: x.ts bundled for the browser into one IIFE, as text. The build
 * (tsup.config.ts) and the tests (vitest.config.ts) produce it with scripts/dashboard-script.ts.
 */
declare module '*?iife' {
  const code: string;
  export default code;
}
