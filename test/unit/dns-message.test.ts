// The DNS message codec: queries as dns-packet reads them, and replies that are used only when they answer the question.

import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { type Answer, DnsReplyError, MAX_CNAME_HOPS, type Question, decodeReply, encodeQuery } from '../../src/net/dns/message.js';
import { canonicalAddress, formatIp, parsePlainIp } from '../../src/net/ip.js';
import { type Zone, answerFrom, frame, readQuery } from '../support/dns.js';

const A: Question = { id: 0x1234, name: 'peer.test', type: 'A' };
const AAAA: Question = { id: 0xbeef, name: 'peer.test', type: 'AAAA' };

const shown = (answer: Answer) => (answer.kind === 'addresses' ? answer.addresses.map(formatIp) : answer.kind);

function reject(framed: Uint8Array, question: Question): string {
  try {
    decodeReply(framed, question);
  } catch (error) {
    if (error instanceof DnsReplyError) return error.message;
    throw error;
  }
  throw new Error('the reply was accepted');
}

/** A reply to `question` with these answer records (and anything else overridden). */
function replyTo(question: Question, answers: dnsPacket.Answer[], override: Record<string, unknown> = {}): Uint8Array {
  return frame({
    type: 'response',
    id: question.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: question.type, name: question.name, class: 'IN' }],
    answers,
    ...override,
  } as dnsPacket.Packet);
}

/** Replaces the 2-byte length prefix of a framed message with the right one for its body. */
function reframe(body: Uint8Array): Uint8Array {
  return new Uint8Array([body.length >> 8, body.length & 0xff, ...body]);
}

describe('encodeQuery(question)', () => {
  test('writes one length-prefixed, recursion-desired question that dns-packet reads back', () => {
    const bytes = encodeQuery(AAAA);
    expect((bytes[0]! << 8) | bytes[1]!).toBe(bytes.length - 2);
    const query = readQuery(bytes);
    expect(query).toMatchObject({ id: 0xbeef, name: 'peer.test', type: 'AAAA' });
    expect(query.flags & dnsPacket.RECURSION_DESIRED).toBeTruthy();
  });
});

describe('decodeReply(framed, question)', () => {
  const zone: Zone = {
    'peer.test': ['192.0.2.1', '192.0.2.2', '2001:db8::1'],
    'www.peer.test': { cname: 'cdn.peer.test' },
    'cdn.peer.test': { cname: 'edge.cdn.peer.test' },
    'edge.cdn.peer.test': ['198.51.100.7'],
    'mapped.test': ['::ffff:127.0.0.1'],
    'v4only.test': ['192.0.2.9'],
  };
  const ask = (name: string, type: 'A' | 'AAAA' = 'A', id = 77): Question => ({ id, name, type });
  const answered = (q: Question) => decodeReply(answerFrom(zone, { ...q, flags: 0 }), q);

  test.each([
    ['the A records of the name', ask('peer.test'), ['192.0.2.1', '192.0.2.2']],
    ['the AAAA records of the name', ask('peer.test', 'AAAA'), ['2001:db8::1']],
    ['the addresses at the end of a CNAME chain', ask('www.peer.test'), ['198.51.100.7']],
    ['an IPv4-mapped AAAA as the IPv4 address it is', ask('mapped.test', 'AAAA'), ['127.0.0.1']],
    ['no addresses for a name without records of that type (NODATA)', ask('v4only.test', 'AAAA'), []],
    ['NXDOMAIN as no such name', ask('missing.test'), 'no-such-name'],
    ['the name in any letter case', ask('PEER.Test'), ['192.0.2.1', '192.0.2.2']],
  ])('reads %s', (_, question, expected) => {
    expect(shown(answered(question))).toEqual(expected);
  });

  test('uses only the answer section: addresses in authority or additional records are ignored', () => {
    const glue: dnsPacket.Answer = { type: 'A', name: 'peer.test', ttl: 60, class: 'IN', data: '203.0.113.66' };
    const reply = replyTo(A, [{ type: 'A', name: 'peer.test', ttl: 60, class: 'IN', data: '192.0.2.1' }], { authorities: [glue], additionals: [glue] });
    expect(shown(decodeReply(reply, A))).toEqual(['192.0.2.1']);
  });

  test('ignores answer records for names outside the CNAME chain', () => {
    const reply = replyTo(A, [
      { type: 'A', name: 'elsewhere.test', ttl: 60, class: 'IN', data: '203.0.113.66' },
      { type: 'A', name: 'peer.test', ttl: 60, class: 'IN', data: '192.0.2.1' },
    ]);
    expect(shown(decodeReply(reply, A))).toEqual(['192.0.2.1']);
  });

  test.each([
    ['a mismatched id', replyTo({ ...A, id: A.id + 1 }, []), /id/],
    ['a reply to another name', replyTo({ ...A, name: 'other.test' }, []), /different question/],
    ['a reply to another type', replyTo({ ...A, type: 'AAAA' }, []), /different question/],
    ['a reply with no question', replyTo(A, [], { questions: [] }), /different question/],
    ['a query instead of a reply', replyTo(A, [], { type: 'query' }), /query/],
    ['a truncated reply (TC)', replyTo(A, [], { flags: dnsPacket.TRUNCATED_RESPONSE }), /truncated/],
    ['SERVFAIL', replyTo(A, [], { rcode: 'SERVFAIL' }), /SERVFAIL/],
    ['REFUSED', replyTo(A, [], { rcode: 'REFUSED' }), /REFUSED/],
    ['an empty message', new Uint8Array([0, 0]), /malformed/],
    ['no length prefix', new Uint8Array([0]), /shorter than its length prefix/],
    ['a length prefix larger than the message', new Uint8Array([0xff, 0xff, 1, 2, 3]), /announces 65535 bytes but 3 follow/],
    ['bytes past the announced length', new Uint8Array([...replyTo(A, []), 0]), /announces/],
  ])('refuses %s', (_, reply, message) => {
    expect(reject(reply, A)).toMatch(message);
  });

  test('refuses every truncation of a valid reply', () => {
    const reply = replyTo(A, [{ type: 'A', name: 'peer.test', ttl: 60, class: 'IN', data: '192.0.2.1' }]);
    for (let length = 0; length < reply.length; length++) {
      expect(() => decodeReply(reply.subarray(0, length), A)).toThrow(DnsReplyError);
      // The same bytes with a length prefix that agrees with them: the message itself is cut short.
      if (length > 2) expect(() => decodeReply(reframe(reply.subarray(2, length)), A)).toThrow(DnsReplyError);
    }
  });

  test('refuses a compression pointer that points at itself', () => {
    // Header (id, response flags, one question), then a question name that is a pointer to its own offset (12).
    const body = [A.id >> 8, A.id & 0xff, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
    expect(reject(reframe(new Uint8Array(body)), A)).toMatch(/malformed.*pointer/);
  });

  test('refuses two compression pointers that point at each other', () => {
    // Question "peer.test" at 12; an answer whose name at 27 points to 29, and 29 points back to 27.
    const question = [4, ...Buffer.from('peer'), 4, ...Buffer.from('test'), 0, 0, 1, 0, 1];
    const body = [A.id >> 8, A.id & 0xff, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, ...question, 0xc0, 29, 0xc0, 27, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
    expect(reject(reframe(new Uint8Array(body)), A)).toMatch(/malformed.*pointer/);
  });

  test(`refuses a CNAME loop (more than ${MAX_CNAME_HOPS} hops)`, () => {
    const reply = replyTo(A, [
      { type: 'CNAME', name: 'peer.test', ttl: 60, class: 'IN', data: 'loop.test' },
      { type: 'CNAME', name: 'loop.test', ttl: 60, class: 'IN', data: 'peer.test' },
    ]);
    expect(reject(reply, A)).toMatch(/CNAME chain/);
  });

  test('refuses an A record whose data length is not 4', () => {
    const good = replyTo(A, [{ type: 'A', name: 'peer.test', ttl: 60, class: 'IN', data: '192.0.2.1' }]);
    // The record's RDLENGTH is the 2 bytes before its 4 address bytes, at the end of the message.
    const body = [...good.subarray(2, good.length - 6), 0, 5, ...good.subarray(good.length - 4), 0];
    expect(reject(reframe(new Uint8Array(body)), A)).toMatch(/unaccounted/);
  });
});

describe('decodeReply properties (dns-packet as the reference)', () => {
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?$/);
  const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((labels) => labels.join('.'));
  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  const question = fc.record({ id: fc.integer({ min: 0, max: 0xffff }), name, type: fc.constantFrom<'A' | 'AAAA'>('A', 'AAAA') });

  test('a reply dns-packet encodes yields exactly its addresses of the asked type for the asked name', () => {
    fc.assert(
      fc.property(question, fc.array(ipv4, { maxLength: 8 }), fc.array(ipv6, { maxLength: 8 }), name, (q, v4s, v6s, other) => {
        const records: dnsPacket.Answer[] = [
          ...v4s.map((data): dnsPacket.Answer => ({ type: 'A', name: q.name, ttl: 1, class: 'IN', data })),
          ...v6s.map((data): dnsPacket.Answer => ({ type: 'AAAA', name: q.name, ttl: 1, class: 'IN', data })),
          { type: 'A', name: `x-${other}`, ttl: 1, class: 'IN', data: '203.0.113.1' },
        ];
        const reply = replyTo(q, records);
        const reference = dnsPacket.decode(Buffer.from(reply.subarray(2))).answers ?? [];
        const expected = reference
          .filter((r) => r.type === q.type && r.name === q.name)
          .map((r) => formatIp(canonicalAddress(parsePlainIp(String((r as { data: unknown }).data))!)));
        expect(shown(decodeReply(reply, q))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  test('any id but the query id is refused', () => {
    fc.assert(
      fc.property(question, fc.integer({ min: 0, max: 0xffff }), (q, id) => {
        fc.pre(id !== q.id);
        expect(() => decodeReply(replyTo({ ...q, id }, []), q)).toThrow(/id/);
      }),
      { numRuns: 500 },
    );
  });

  test('arbitrary bytes are refused as DnsReplyError or read as an answer, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), question, (body, q) => {
        try {
          decodeReply(reframe(body), q);
        } catch (error) {
          expect(error).toBeInstanceOf(DnsReplyError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  test('a valid reply with bytes flipped is refused as DnsReplyError or read as an answer, never anything else', () => {
    fc.assert(
      fc.property(question, fc.array(ipv4, { maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (q, v4s, flips) => {
        const body = replyTo(q, v4s.map((data): dnsPacket.Answer => ({ type: 'A', name: q.name, ttl: 1, class: 'IN', data }))).slice(2);
        for (const [at, mask] of flips) body[at % body.length]! ^= mask;
        try {
          const answer = decodeReply(reframe(body), q);
          if (answer.kind === 'addresses') for (const a of answer.addresses) expect(['ipv4', 'ipv6']).toContain(a.tag);
        } catch (error) {
          expect(error).toBeInstanceOf(DnsReplyError);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
