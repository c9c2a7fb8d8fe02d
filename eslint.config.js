// ESLint flat config for `npm run lint`: typescript-eslint's recommended rules, the house style, size limits for src/.
// Why these tools, and why style is checked by @stylistic rather than Prettier: docs/contributing.md "Lint and format".
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The house style as it is written (`npx eslint --fix` applies it): checked, so no reformat of the tree is needed. */
const houseStyle = {
  '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
  '@stylistic/semi': ['error', 'always'],
  '@stylistic/comma-dangle': ['error', 'always-multiline'],
  '@stylistic/indent': ['error', 2, { offsetTernaryExpressions: true }],
  '@stylistic/no-trailing-spaces': 'error',
  '@stylistic/eol-last': 'error',
  '@stylistic/no-tabs': 'error',
  // Comments wrap at 120; code runs longer where a line reads better whole. Long strings and patterns are not split.
  '@stylistic/max-len': ['error', { code: 180, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }],
};

export default defineConfig(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js', '**/*.cjs'],
    plugins: { '@stylistic': stylistic },
    languageOptions: { globals: { ...globals.node } },
    rules: houseStyle,
  },
  {
    // Jest's support files are CommonJS (jest loads them with require); the per-file setup uses Jest's globals.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.jest } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests of escaping and terminal output match control characters on purpose.
    files: ['test/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Rules that need the types (typescript-eslint's project service reads tsconfig.json, which covers src, test and
    // bench). A daemon must not drop a promise: an unawaited write or fetch fails with nobody to log it, and an
    // unawaited `expect(p).rejects` in a test asserts nothing (the guide's "no un-awaited promise assertions").
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // Issue 12: no source file over 300 lines, no function over 80 (blank and comment lines count).
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
);
