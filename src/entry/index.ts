// Component entry of the portable build (dist/ai-agent-sockets.wasm): settings from the environment only.

import { componentHandler } from './component.js';
import { readEnvironment } from '../wasi/environment.js';

export const incomingHandler = componentHandler(readEnvironment);
