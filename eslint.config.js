// `npm run lint`: ESLint's and typescript-eslint's recommended rules over everything we write (src, host,
// scripts, test, bench and the config files); generated and built files are left out.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'coverage/', 'src/generated/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,ts}'],
    rules: {
      // tsc checks every file, JavaScript included (checkJs), with the real globals of each runtime.
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
