// ESLint flat config: typescript-eslint recommended rules, no console in the server,
// and the layer rule of STYLE.md section 1 (imports go down only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (from, forbidden) => ({
  files: [`src/${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: forbidden.map((f) => ({ group: [`**/${f}/*`, `**/${f}`], message: `src/${from} must not import src/${f} (STYLE.md §1)` })),
    }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-console': 'error' } },
  layer('meta', ['storage', 'cache', 'vfs', 'protocols', 'cli', 'daemon']),
  layer('storage', ['meta', 'cache', 'vfs', 'protocols', 'cli', 'daemon']),
  layer('cache', ['meta', 'vfs', 'protocols', 'cli', 'daemon']),
  layer('vfs', ['protocols', 'cli', 'daemon']),
  layer('util', ['meta', 'storage', 'cache', 'vfs', 'protocols', 'cli', 'daemon', 'observability']),
  layer('protocols', ['meta', 'storage', 'cache', 'cli', 'daemon']),
  layer('observability', ['meta', 'storage', 'cache', 'vfs', 'protocols', 'cli', 'daemon']),
);
