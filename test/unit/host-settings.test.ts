// The local host's own settings (host/settings.mjs): where it may listen without a token, and which addresses are
// its own (OWN_ADDRESSES) for each listen address.

import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, test } from 'vitest';
import { DEFAULT_HOST, checkExposure, isLoopbackHost, ownAddresses } from '../../host/settings.mjs';

const TOKEN = { AUTH_TOKEN: '0123456789abcdef' };

describe('checkExposure(host, env)', () => {
  test.each(['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])('%s is loopback: no token needed', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
    expect(() => checkExposure(host, {})).not.toThrow();
  });

  test.each(['0.0.0.0', '::', '192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1', 'example.com', 'localhost.example'])(
    '%s is beyond loopback: refused without AUTH_TOKEN, in one line that says how to set one or opt in',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
      expect(() => checkExposure(host, {})).toThrow(
        new Error(
          `ai-agent-sockets will not listen on ${host} without AUTH_TOKEN: anyone who can reach it could open connections through it. Set AUTH_TOKEN (16+ characters, e.g. AUTH_TOKEN=$(openssl rand -hex 32)), or ALLOW_UNAUTHENTICATED=true to serve without one anyway, or leave HOST unset to listen on ${DEFAULT_HOST} only`,
        ),
      );
      expect(() => checkExposure(host, TOKEN)).not.toThrow();
      expect(() => checkExposure(host, { ALLOW_UNAUTHENTICATED: 'true' })).not.toThrow();
      expect(() => checkExposure(host, { AUTH_TOKEN: '', ALLOW_UNAUTHENTICATED: 'false' })).toThrow(/will not listen/);
    },
  );

  test.each(['yes', '1', 'TRUE', ' true'])('ALLOW_UNAUTHENTICATED=%j is refused, naming the values it takes, wherever it listens', (value) => {
    expect(() => checkExposure('127.0.0.1', { ALLOW_UNAUTHENTICATED: value })).toThrow(new Error(`ALLOW_UNAUTHENTICATED=${JSON.stringify(value)} is invalid: expected true or false`));
  });
});

const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean, cidr: string): NetworkInterfaceInfo =>
  ({ address, family, internal, cidr, netmask: '', mac: '00:00:00:00:00:00', ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as NetworkInterfaceInfo;
const INTERFACES = {
  lo: [nic('127.0.0.1', 'IPv4', true, '127.0.0.1/8'), nic('::1', 'IPv6', true, '::1/128')],
  eth0: [nic('192.0.2.7', 'IPv4', false, '192.0.2.7/24'), nic('2001:db8::7', 'IPv6', false, '2001:db8::7/64'), nic('fe80::7', 'IPv6', false, 'fe80::7/64')],
};

describe('ownAddresses(address, port, interfaces)', () => {
  test('a specific address is the only own address', () => {
    expect(ownAddresses('127.0.0.1', 8081, INTERFACES)).toEqual(['127.0.0.1:8081']);
    expect(ownAddresses('::1', 8081, INTERFACES)).toEqual(['[::1]:8081']);
    expect(ownAddresses('192.0.2.7', 8081, INTERFACES)).toEqual(['192.0.2.7:8081']);
  });

  test('0.0.0.0: itself, all of loopback and every IPv4 interface address (an IPv6 address is another socket)', () => {
    expect(ownAddresses('0.0.0.0', 8081, INTERFACES)).toEqual(['0.0.0.0:8081', '127.0.0.1/8:8081', '192.0.2.7:8081']);
  });

  test(':: (dual-stack): itself, 0.0.0.0, and every address of both families', () => {
    expect(ownAddresses('::', 8081, INTERFACES)).toEqual([
      '[::]:8081',
      '0.0.0.0:8081',
      '127.0.0.1/8:8081',
      '[::1/128]:8081',
      '192.0.2.7:8081',
      '[2001:db8::7]:8081',
      '[fe80::7]:8081',
    ]);
  });
});
