// OWN_ADDRESSES: the server's own addresses are refused as targets whatever ALLOWED_TARGETS says, in every form
// that reaches them, with a message that says why.

import { describe, expect, test } from 'vitest';
import { verdict } from '../support/policy-verdict.js';
import { Policy } from '../../src/net/policy.js';
import { makeTarget, parseHost } from '../../src/net/target.js';
import { Config, parseEntries } from '../../src/settings/config.js';


const policyOf = (allowed: string, own: string) => new Policy(parseEntries('ALLOWED_TARGETS', allowed), [], parseEntries('OWN_ADDRESSES', own));
const LOOP = "it is this server's own address (OWN_ADDRESSES)";

describe('Policy.check with OWN_ADDRESSES', () => {
  // The allow entries name the server's address exactly: an own address wins even over those.
  const policy = policyOf('127.0.0.0/8:*,127.0.0.1:*,[::1]:*,8.8.8.8:*,0.0.0.0/0:*', '127.0.0.1:8081,[::1]:8081,8.8.8.8:8081,0.0.0.0:8081');

  test.each([
    ['127.0.0.1', '127.0.0.1:8081'],
    ['[::1]', '[::1]:8081'],
    ['8.8.8.8', '8.8.8.8:8081'],
    ['0.0.0.0', '0.0.0.0:8081'],
    // Other spellings of 127.0.0.1: they are canonicalised before the check.
    ['2130706433', '127.0.0.1:8081'],
    ['[::ffff:127.0.0.1]', '127.0.0.1:8081'],
  ])('%s on the server\'s port is refused as the server\'s own address, though ALLOWED_TARGETS names it', (host, shown) => {
    expect(verdict(policy, host, 8081)).toBe(`denied: ${shown} is not allowed: ${LOOP}: a request to it would loop back into the server`);
  });

  test('an IPv6 form that carries an own IPv4 address is refused, naming the address it carries', () => {
    const open = policyOf('[::/0]:*,0.0.0.0/0:*', '8.8.8.8:8081');
    expect(verdict(open, '[64:ff9b::808:808]', 8081)).toBe(
      `denied: [64:ff9b::808:808]:8081 is not allowed: ${LOOP} (it carries the IPv4 address 8.8.8.8 as NAT64 (64:ff9b::/96)): a request to it would loop back into the server`,
    );
  });

  test('a name that resolves to an own address is refused, naming both', () => {
    expect(verdict(policy, 'localhost', 8081, ['127.0.0.1'])).toBe(
      `denied: localhost:8081 (resolved to 127.0.0.1) is not allowed: ${LOOP}: a request to it would loop back into the server`,
    );
  });

  test('the same address on another port, and a neighbour on the same port, are not the server', () => {
    expect(verdict(policy, '127.0.0.1', 8082)).toBe('allowed');
    expect(verdict(policy, '127.0.0.2', 8081)).toBe('allowed');
    expect(verdict(policy, '8.8.4.4', 8081)).toBe('allowed');
  });

  test('a range entry covers the whole range (loopback, when the server listens on every address)', () => {
    expect(verdict(policyOf('127.0.0.0/8:*', '127.0.0.1/8:8081'), '127.3.2.1', 8081)).toMatch(LOOP);
  });
});

describe('the OWN_ADDRESSES setting', () => {
  test('is read into the policy', () => {
    const config = new Config({ ALLOWED_TARGETS: '127.0.0.1:*', OWN_ADDRESSES: '127.0.0.1:8081' });
    expect(() => config.policy.check(makeTarget('127.0.0.1', 8081), [parseHost('127.0.0.1').address!])).toThrow(LOOP);
  });

  test('a malformed entry is config-invalid, named by /ready, and fails the requests that need the policy', () => {
    const config = new Config({ OWN_ADDRESSES: '127.0.0.1' });
    expect(config.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/^setting OWN_ADDRESSES has a malformed entry "127\.0\.0\.1": expected ADDRESS:PORT/),
    ]);
    expect(() => config.policy).toThrow(/OWN_ADDRESSES/);
  });
});
