// `npm run lint`: ESLint's and typescript-eslint's recommended rules over everything we write (src, host,
// scripts, test, bench and the config files); generated and built files are left out. The layers of src/
// (README, "Architecture") are enforced here: each folder may import only the folders below it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What each folder of src/ may import from the others (entry/ may import anything). @type {Record<string, string[]>} */
export const LAYERS = {
  core: [],
  net: ['core'],
  settings: ['core', 'net'],
  http: ['core'],
  api: ['core', 'net', 'settings', 'http'],
  wasi: ['core', 'net', 'settings', 'http'],
};

/** Host interfaces (WASI, Spin, the TLS engine) are called from src/wasi/ only; their types may be imported anywhere. */
const HOST_IMPORTS = { regex: '^(wasi|fermyon|ai-agent-sockets):', allowTypeImports: true, message: 'only src/wasi/ calls host imports: add or use an adapter there' };

/**
 * The rule for one layer: a relative import that reaches a folder of src/ outside its list is an error.
 * @param {string} layer
 * @param {string[]} allowed
 * @returns {import('eslint').Linter.Config}
 */
function layerRule(layer, allowed) {
  const forbidden = Object.keys(LAYERS).concat('entry').filter((other) => other !== layer && !allowed.includes(other));
  /** @type {Array<{ regex: string, message: string, allowTypeImports?: boolean }>} */
  const patterns = [{ regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`, message: `src/${layer}/ ${allowed.length ? `may import only ${allowed.map((a) => `src/${a}/`).join(', ')}` : 'imports nothing else of src/'}` }];
  if (layer !== 'wasi') patterns.push(HOST_IMPORTS);
  return { files: [`src/${layer}/**/*.{ts,js}`], rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } };
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'coverage/', 'src/generated/', 'target/'] },
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
  ...Object.entries(LAYERS).map(([layer, allowed]) => layerRule(layer, allowed)),
);
