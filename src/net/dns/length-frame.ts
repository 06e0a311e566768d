// The end of a DNS message over TCP (RFC 1035 §4.2.2): a 2-byte big-endian length, then that many bytes. The
// reader (reply-reader.ts) takes it as one more detector for a `{ lengthPrefixed: true }` read.

import { type ByteEnd, countEnd } from '../read-ends.js';

/** Bytes of the length prefix of a message over TCP. */
export const LENGTH_PREFIX_BYTES = 2;

/** Ends the reply (`complete`) once one message has fully arrived, its prefix included, however it is split. */
export function lengthFrameEnd(): ByteEnd {
  // The prefix's first byte, when it arrived alone in the first chunk.
  let high: number | undefined;
  // Once the prefix is in, the message is an exact count.
  let message: ByteEnd | undefined;
  return {
    end: 'complete',
    endIn(data, received) {
      if (message === undefined) {
        if (received + data.length < LENGTH_PREFIX_BYTES) {
          high = data[0];
          return -1;
        }
        const length = received === 0 ? (data[0]! << 8) | data[1]! : (high! << 8) | data[0]!;
        message = countEnd(LENGTH_PREFIX_BYTES + length, 'complete');
      }
      return message.endIn(data, received);
    },
    room: (received) => message?.room(received) ?? Infinity,
  };
}
