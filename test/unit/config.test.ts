import { describe, expect, test } from 'vitest';
import { Config, NUMERIC_SETTINGS } from '../../src/settings/config.js';
import { ServiceError } from '../../src/core/errors.js';
import { formatIp, formatSocketAddress } from '../../src/net/ip.js';
import { failure } from '../support/failure.js';

describe('Config.limits', () => {
  test('defaults: connect 5 s, deadline 30 s, reply cap 1 MiB, message cap 64 KiB, 64 datagrams', () => {
    expect(new Config({}).limits).toEqual({
      connectTimeoutMs: 5000,
      requestDeadlineMs: 30000,
      replyIdleMs: 200,
      maxReplyBytes: 1048576,
      maxMessageBytes: 65536,
      maxDatagrams: 64,
    });
  });

  test('reads every setting from its variable', () => {
    const limits = new Config({ CONNECT_TIMEOUT_MS: '100', REQUEST_DEADLINE_MS: '200', REPLY_IDLE_MS: '30', MAX_REPLY_BYTES: '40', MAX_MESSAGE_BYTES: '50', MAX_DATAGRAMS: '6' }).limits;
    expect(limits).toEqual({ connectTimeoutMs: 100, requestDeadlineMs: 200, replyIdleMs: 30, maxReplyBytes: 40, maxMessageBytes: 50, maxDatagrams: 6 });
  });

  test.each(Object.values(NUMERIC_SETTINGS).flatMap((s) => [
    [s.name, String(s.max + 1)],
    [s.name, 'abc'],
    [s.name, '-1'],
    [s.name, '1.5'],
    [s.name, '1e3'],
  ]))('%s=%s is config-invalid, naming the variable and the bounds', (name, value) => {
    const error = failure(() => new Config({ [name]: value }).limits);
    expect(error.code).toBe('config-invalid');
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/from \d+ to \d+/);
  });
});

describe('Config.defaultTarget', () => {
  test('defaults to example.com:80 with its fallback addresses', () => {
    const target = new Config({}).defaultTarget;
    expect(target.host).toBe('example.com');
    expect(target.port).toBe(80);
    expect(target.fallbackAddresses.length).toBeGreaterThan(0);
  });

  test('another default host has no fallbacks unless configured', () => {
    expect(new Config({ DEFAULT_TARGET_HOST: 'db.internal' }).defaultTarget.fallbackAddresses).toEqual([]);
    const configured = new Config({ DEFAULT_TARGET_HOST: 'db.internal', DEFAULT_TARGET_FALLBACK_IPS: '10.0.0.5, [::1]' }).defaultTarget;
    expect(configured.fallbackAddresses.map(formatIp)).toEqual(['10.0.0.5', '::1']);
  });

  test.each([
    ['DEFAULT_TARGET_PORT', 'abc'],
    ['DEFAULT_TARGET_PORT', '0'],
    ['DEFAULT_TARGET_HOST', 'a b'],
    ['DEFAULT_TARGET_HOST', 'a\r\nb'],
    ['DEFAULT_TARGET_FALLBACK_IPS', '1.2.3'],
    ['DEFAULT_TARGET_FALLBACK_IPS', 'example.com'],
  ])('%s=%j is config-invalid', (name, value) => {
    const error = failure(() => new Config({ [name]: value }).defaultTarget);
    expect(error.code).toBe('config-invalid');
    expect(error.message).toContain(name);
  });

  test('a malformed default target does not break the limits', () => {
    expect(new Config({ DEFAULT_TARGET_PORT: 'abc' }).limits.connectTimeoutMs).toBe(5000);
  });
});

describe('Config.policy', () => {
  test.each([
    ['ALLOWED_TARGETS', '10.0.0.0/99:80'],
    ['ALLOWED_TARGETS', '127.0.0.1'],
    ['DENIED_TARGETS', 'example.com:http'],
  ])('%s=%j is config-invalid, naming the variable', (name, value) => {
    const error = failure(() => new Config({ [name]: value }).policy);
    expect(error.code).toBe('config-invalid');
    expect(error.message).toContain(name);
  });
});

describe('Config.dns', () => {
  const servers = (env: Record<string, string>) => new Config(env).dns.servers.map((s) => formatSocketAddress(s));

  test('defaults: auto, no servers', () => {
    expect(new Config({}).dns).toEqual({ mode: 'auto', servers: [] });
  });

  test.each([
    ['1.1.1.1', ['1.1.1.1:53']],
    ['1.1.1.1:5353, 9.9.9.9', ['1.1.1.1:5353', '9.9.9.9:53']],
    ['[2606:4700:4700::1111]', ['[2606:4700:4700::1111]:53']],
    ['[2606:4700:4700::1111]:853', ['[2606:4700:4700::1111]:853']],
    ['[::ffff:127.0.0.1]:5353', ['127.0.0.1:5353']],
    [' , ', []],
  ])('DNS_SERVERS=%j lists %j, in order, port 53 by default', (raw, expected) => {
    expect(servers({ DNS_SERVERS: raw })).toEqual(expected);
  });

  test.each([
    ['DNS_SERVERS', { DNS_SERVERS: 'dns.google' }],
    ['DNS_SERVERS', { DNS_SERVERS: '1.1.1.1:0' }],
    ['DNS_SERVERS', { DNS_SERVERS: '1.1.1.1:65536' }],
    ['DNS_SERVERS', { DNS_SERVERS: '1.1.1.1:' }],
    ['DNS_SERVERS', { DNS_SERVERS: '1.1.1.1:53:53' }],
    ['DNS_SERVERS', { DNS_SERVERS: '2606:4700:4700::1111' }],
    ['DNS_SERVERS', { DNS_SERVERS: '[1.1.1.1]:53' }],
    ['DNS_SERVERS', { DNS_SERVERS: '0x01.1.1.1' }],
    ['DNS_SERVERS', { DNS_SERVERS: '1.1.1.1;8.8.8.8' }],
    ['DNS_MODE', { DNS_MODE: 'doh' }],
    ['DNS_MODE', { DNS_MODE: 'TCP', DNS_SERVERS: '1.1.1.1' }],
    ['DNS_MODE', { DNS_MODE: 'tcp' }],
  ])('%s in %j is config-invalid, naming the variable', (name, env) => {
    const error = failure(() => new Config(env).dns);
    expect([error.status, error.code]).toEqual([503, 'config-invalid']);
    expect(error.message).toContain(name);
  });

  test('a malformed DNS setting does not affect the other settings', () => {
    const config = new Config({ DNS_SERVERS: 'nonsense' });
    expect(config.limits.connectTimeoutMs).toBe(5000);
    expect(() => config.dns).toThrow(ServiceError);
  });
});

describe('Config.problems (what /ready reports)', () => {
  test('is empty when every setting is well-formed, defaults included', () => {
    expect(new Config({}).problems).toEqual([]);
    expect(new Config({ AUTH_TOKEN: 'a'.repeat(16), ALLOWED_TARGETS: '127.0.0.1:*', DNS_SERVERS: '1.1.1.1', DNS_MODE: 'tcp' }).problems).toEqual([]);
  });

  test('lists each malformed setting once, by name and expected form, whatever group it belongs to', () => {
    const problems = new Config({
      CONNECT_TIMEOUT_MS: 'abc',
      MAX_REPLY_BYTES: '0',
      AUTH_TOKEN: 'short',
      DENIED_TARGETS: 'nonsense',
      DEFAULT_TARGET_PORT: '99999',
      DNS_SERVERS: 'not-an-ip',
      DNS_MODE: 'doh',
    }).problems;
    expect(problems.map((p) => p.setting).sort()).toEqual(
      ['AUTH_TOKEN', 'CONNECT_TIMEOUT_MS', 'DEFAULT_TARGET_PORT', 'DENIED_TARGETS', 'DNS_MODE', 'DNS_SERVERS', 'MAX_REPLY_BYTES'].sort(),
    );
    for (const p of problems) expect(p.expected.length).toBeGreaterThan(5);
  });

  test('never carries the value of AUTH_TOKEN in what it reports', () => {
    const secret = 'sec ret with spaces';
    const [problem] = new Config({ AUTH_TOKEN: secret }).problems;
    expect(problem?.setting).toBe('AUTH_TOKEN');
    expect(`${problem?.expected} ${problem?.message}`).not.toContain('sec ret');
  });
});

describe('Config.defaultTarget', () => {
  test.each(['a:b', 'exa mple.com', '300.1.1.1', '[::1', 'host%0a'])('DEFAULT_TARGET_HOST=%s is the operator\'s config-invalid (503), not the caller\'s invalid-host', (host) => {
    const error = failure(() => new Config({ DEFAULT_TARGET_HOST: host }).defaultTarget);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('config-invalid');
    expect((error as ServiceError).status).toBe(503);
    expect((error as ServiceError).message).toContain('DEFAULT_TARGET_HOST');
  });
});
