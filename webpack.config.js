// Bundles src/ into one ES module for componentize-js; every `wasi:*` import stays an external import.
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/** @type {import('webpack').Configuration} */
export default {
  mode: 'production',
  context: root,
  entry: './src/index.ts',
  target: 'es2022',
  devtool: false,
  experiments: { outputModule: true },
  output: {
    path: `${root}dist`,
    filename: 'ai-agent-sockets.js',
    module: true,
    library: { type: 'module' },
    clean: false,
  },
  externalsType: 'module',
  externals: [({ request }, callback) => (request?.startsWith('wasi:') ? callback(undefined, `module ${request}`) : callback())],
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
