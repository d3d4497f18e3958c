// One lint setup for the whole workspace: typescript-eslint with type information, so
// floating promises and `any` are caught as errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { LAYERS, forbiddenFor } from './packages/distcache-core/layers.mjs';

// One rule per folder of distcache-core/src: it may import only the layers below its own.
const nestBan = { group: ['@nestjs/*'], message: 'distcache-core never imports Nest.' };
const layerRules = LAYERS.flat().map((folder) => ({
  files: [`packages/distcache-core/src/${folder}/**/*.ts`],
  ignores: ['**/*.spec.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          nestBan,
          {
            group: forbiddenFor(folder).flatMap((other) => [
              `../${other}`,
              `../${other}/**`,
              `../../${other}`,
              `../../${other}/**`,
            ]),
            message: `distcache-core/src/${folder} may import only lower layers (packages/distcache-core/layers.mjs).`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '**/reports/**',
      '**/.nx/**',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // Rejections pass through what was thrown (data-source errors, abort reasons) untouched.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-imports': ['error', { patterns: [] }],
    },
  },
  {
    files: ['packages/distcache-core/**/*.ts'],
    rules: {
      // The engine must stay framework-free: Nest lives in nestjs-distcache only.
      'no-restricted-imports': ['error', { patterns: [nestBan] }],
    },
  },
  ...layerRules,
  {
    // The dashboard's script runs in the browser (its own tsconfig, with DOM types): it may import
    // types of the server, never its code, and Node's globals do not exist there.
    files: ['packages/distcache-core/src/admin/browser/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '.*',
              allowTypeImports: true,
              message: 'The dashboard script is bundled for the browser: import types only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'Buffer',
        'process',
        'global',
        'require',
        'module',
        '__dirname',
        '__filename',
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
