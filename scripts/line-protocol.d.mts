// Types for scripts/line-protocol.mjs, used by tests.
import type { Socket } from 'node:net';
export function lineProtocol(greeting: string): (socket: Socket) => void;
