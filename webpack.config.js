// Bundles one entry of src/ into one ES module for componentize-js (scripts/build.mjs lists the builds);
// every `wasi:*`, `fermyon:*` (Spin) and `ai-agent-sockets:*` (the TLS engine) import stays an external import,
// for the component's world to provide.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
/** Module names the host provides (WIT interfaces): left for componentize-js to bind. */
const HOST_IMPORT = /^(wasi|fermyon|ai-agent-sockets):/;

/**
 * The webpack configuration of one build: `entry` bundled into dist/`name`.js.
 * @param {{ entry: string, name: string }} build
 * @returns {import('webpack').Configuration}
 */
export default function bundleConfig({ entry, name }) {
  return {
    name,
    mode: 'production',
    context: root,
    entry,
    target: 'es2022',
    devtool: false,
    experiments: { outputModule: true },
    output: {
      path: `${root}dist`,
      filename: `${name}.js`,
      module: true,
      library: { type: 'module' },
      clean: false,
    },
    externalsType: 'module',
    externals: [({ request }, callback) => (request && HOST_IMPORT.test(request) ? callback(undefined, `module ${request}`) : callback())],
    resolve: {
      extensions: ['.ts', '.js'],
      extensionAlias: { '.js': ['.ts', '.js'] },
    },
    module: {
      rules: [{ test: /\.ts$/, loader: 'ts-loader', exclude: /node_modules/, options: { transpileOnly: true, onlyCompileBundledFiles: true } }],
    },
    // Readable output: the bundle is what runs, and people audit it.
    optimization: { minimize: false },
    performance: { hints: false },
  };
}
