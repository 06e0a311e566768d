// One table of host, address, port and list spellings, run through every door that reads one (the query of
// /tcp/send and GET /, the JSON of /tcp/exchange, the MCP tool, and each setting), so the doors cannot drift.

import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { Config, type Environment, parseEntries } from '../../src/settings/config.js';
import { ServiceError } from '../../src/core/errors.js';
import { addressFromValue, formatIp } from '../../src/net/ip.js';
import { makeTarget, parseHost } from '../../src/net/target.js';
import { fakeNetwork } from '../support/fake-network.js';

/** What a door made of the text: the name it looked up, the address it used, or `invalid`. */
type Seen = `name ${string}` | `ip ${string}` | 'invalid';

/** Everything reachable, so a door's verdict is about the spelling, never the destination policy. */
const ANYWHERE = '0.0.0.0/0:*,[::/0]:*,127.0.0.0/8:*,[::1]:*,[64:ff9b:1::/48]:*,[2001::/32]:*';

/** Sends one request to an app over a fake network; what it connected to or looked up, or `invalid` on a 4xx/503 naming the input. */
async function throughApp(env: Environment, request: Request, invalidCodes: string[]): Promise<{ seen: Seen; port?: number; message?: string }> {
  const fake = fakeNetwork({});
  const app = createApp({ config: () => new Config({ ALLOWED_TARGETS: ANYWHERE, ...env }), network: fake.network });
  const response = await app(request);
  const text = await response.text();
  // The MCP tool carries the error body as text inside its result: its quotes are escaped.
  const code = /\\?"code\\?":\\?"([a-z-]+)/.exec(text)?.[1];
  if (fake.lookups.length > 0) return { seen: `name ${fake.lookups[0]}` };
  const to = fake.calls[0]?.to;
  if (to !== undefined) {
    const [, address = '', port = ''] = /^\[?(.*?)\]?:(\d+)$/.exec(to) ?? [];
    return { seen: `ip ${address}`, port: Number(port) };
  }
  if (code !== undefined && invalidCodes.includes(code)) return { seen: 'invalid', message: errorMessage(text) };
  throw new Error(`unexpected answer ${response.status} ${text}`);
}

/** The message of an error body, or of the error body an MCP tool result carries as its text. */
function errorMessage(text: string): string {
  const body = JSON.parse(text) as { error?: { message: string }; result?: { content: { text: string }[] } };
  return body.error?.message ?? errorMessage(body.result!.content[0]!.text);
}

const exchangeBody = (host: string, port: unknown) => JSON.stringify({ host, port, steps: [{}] });
const mcpBody = (host: string, port: unknown) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tcp_exchange', arguments: { host, port, steps: [{}] } } });
const post = (path: string, body: string) => new Request(`http://component.local${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
const get = (path: string) => new Request(`http://component.local${path}`);

/** Runs `read`; a config-invalid naming the setting is `invalid`. */
function fromSetting<T>(name: string, read: () => T): T | 'invalid' {
  try {
    return read();
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'config-invalid' && error.message.includes(name)) return 'invalid';
    throw error;
  }
}

/** Whether a policy made of ALLOWED_TARGETS=`entry` lets `host` (a canonical IP or name) through on `port`. */
function allowedBy(entry: string, host: string, port: number, resolvedTo = '192.0.2.200'): boolean {
  const policy = new Config({ ALLOWED_TARGETS: entry }).policy;
  const target = makeTarget(host, port);
  try {
    policy.check(target, target.kind === 'ip' ? [target.address] : [parseHost(resolvedTo).address!]);
    return true;
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'destination-denied') return false;
    throw error;
  }
}

/**
 * Each spelling, and what the two kinds of door make of it. `caller`: a host a caller names (query `host=`, JSON
 * `host`, the MCP tool, DEFAULT_TARGET_HOST), where every IPv4 spelling a resolver accepts is read for the address
 * it is. `alone`: an IP written alone in a setting (DEFAULT_TARGET_FALLBACK_IPS): strict dotted decimal, IPv6 with or
 * without brackets. `beforePort`: a host where a `:PORT` may follow (ALLOWED_TARGETS, DNS_SERVERS): IPv6 in brackets
 * only. Settings that take IPs only (DNS_SERVERS, fallbacks) refuse names. Brackets hold IPv6 only, everywhere.
 */
const HOSTS: [text: string, caller: Seen, alone: Seen, beforePort: Seen][] = [
  ['127.0.0.1', 'ip 127.0.0.1', 'ip 127.0.0.1', 'ip 127.0.0.1'],
  ['192.0.2.1', 'ip 192.0.2.1', 'ip 192.0.2.1', 'ip 192.0.2.1'],
  ['[::1]', 'ip ::1', 'ip ::1', 'ip ::1'],
  ['::1', 'ip ::1', 'ip ::1', 'invalid'],
  ['[2001:DB8::1]', 'ip 2001:db8::1', 'ip 2001:db8::1', 'ip 2001:db8::1'],
  ['[::ffff:127.0.0.1]', 'ip 127.0.0.1', 'ip 127.0.0.1', 'ip 127.0.0.1'],
  ['[::ffff:c000:201]', 'ip 192.0.2.1', 'ip 192.0.2.1', 'ip 192.0.2.1'],
  ['[1.2.3.4]', 'invalid', 'invalid', 'invalid'],
  ['[example.com]', 'invalid', 'invalid', 'invalid'],
  ['[::1', 'invalid', 'invalid', 'invalid'],
  ['[fe80::1%eth0]', 'invalid', 'invalid', 'invalid'],
  ['fe80::1%eth0', 'invalid', 'invalid', 'invalid'],
  ['0x7f.1', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['2130706433', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0177.0.0.1', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['1.2.3', 'ip 1.2.0.3', 'invalid', 'invalid'],
  ['192.0.2.1.', 'ip 192.0.2.1', 'invalid', 'invalid'],
  ['1.2.3.999', 'invalid', 'invalid', 'invalid'],
  ['1.2.3.4.5', 'invalid', 'invalid', 'invalid'],
  ['0x7f000001', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0xc0.0.2.1', 'ip 192.0.2.1', 'invalid', 'invalid'],
  // request-filtering-agent's spellings of loopback (its test/request-filtering-agent.test.ts).
  ['127.0.1', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0177.00.00.01', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0177.00.01', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0177.01', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['017700000001', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0x7f.0x0.0x0.0x1', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0x7f.0x0.0x1', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['0x7f.0x1', 'ip 127.0.0.1', 'invalid', 'invalid'],
  ['21307064331', 'invalid', 'invalid', 'invalid'],
  ['[0:0:0:0:0:0:0:1]', 'ip ::1', 'ip ::1', 'ip ::1'],
  ['[0:0:0:0:0:ffff:127.0.0.1]', 'ip 127.0.0.1', 'ip 127.0.0.1', 'ip 127.0.0.1'],
  ['[::ffff:7f00:1]', 'ip 127.0.0.1', 'ip 127.0.0.1', 'ip 127.0.0.1'],
  ['A.com@127.0.0.1', 'invalid', 'invalid', 'invalid'],
  // IPv4 carried in IPv6 other than IPv4-mapped stays the IPv6 address it is (the policy checks both).
  ['[64:ff9b:1:7f00:0:100::]', 'ip 64:ff9b:1:7f00:0:100::', 'ip 64:ff9b:1:7f00:0:100::', 'ip 64:ff9b:1:7f00:0:100::'],
  ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', 'ip 2001:0:4136:e378:8000:63bf:3fff:fdd2', 'ip 2001:0:4136:e378:8000:63bf:3fff:fdd2', 'ip 2001:0:4136:e378:8000:63bf:3fff:fdd2'],
  ['example.com', 'name example.com', 'name example.com', 'name example.com'],
  ['Example.COM.', 'name example.com', 'name example.com', 'name example.com'],
  ['my_service.internal', 'name my_service.internal', 'name my_service.internal', 'name my_service.internal'],
  ['08.com', 'name 08.com', 'name 08.com', 'name 08.com'],
  ['foo.1a', 'name foo.1a', 'name foo.1a', 'name foo.1a'],
  ['1a', 'name 1a', 'name 1a', 'name 1a'],
  ['foo.123', 'invalid', 'invalid', 'invalid'],
  ['foo.0x1f', 'invalid', 'invalid', 'invalid'],
  ['a..b', 'invalid', 'invalid', 'invalid'],
  ['-bad.com', 'invalid', 'invalid', 'invalid'],
  ['exa mple.com', 'invalid', 'invalid', 'invalid'],
  ['a/b', 'invalid', 'invalid', 'invalid'],
  ['user@host', 'invalid', 'invalid', 'invalid'],
  [`${'a'.repeat(64)}.com`, 'invalid', 'invalid', 'invalid'],
  [`${'a.'.repeat(127)}com`, 'invalid', 'invalid', 'invalid'],
];

/** A name where a door takes IP addresses only is invalid there. */
const ipOnly = (seen: Seen): Seen => (seen.startsWith('name ') ? 'invalid' : seen);

const HOST_DOORS: Record<string, { kind: 'caller' | 'alone' | 'beforePort'; ipOnly?: boolean; read: (text: string) => Promise<Seen> | Seen }> = {
  'GET /tcp/send?host=': { kind: 'caller', read: async (h) => (await throughApp({}, get(`/tcp/send?host=${encodeURIComponent(h)}&port=7`), ['invalid-host'])).seen },
  'GET /?host=': { kind: 'caller', read: async (h) => (await throughApp({}, get(`/?host=${encodeURIComponent(h)}&port=7`), ['invalid-host'])).seen },
  'POST /tcp/exchange {host}': { kind: 'caller', read: async (h) => (await throughApp({}, post('/tcp/exchange', exchangeBody(h, 7)), ['invalid-host'])).seen },
  'POST /mcp tcp_exchange {host}': { kind: 'caller', read: async (h) => (await throughApp({}, post('/mcp', mcpBody(h, 7)), ['invalid-host'])).seen },
  'DEFAULT_TARGET_HOST': { kind: 'caller', read: async (h) => (await throughApp({ DEFAULT_TARGET_HOST: h, DEFAULT_TARGET_FALLBACK_IPS: '' }, get('/'), ['config-invalid'])).seen },
  'DEFAULT_TARGET_FALLBACK_IPS': {
    kind: 'alone',
    ipOnly: true,
    read: (h) => {
      const addresses = fromSetting('DEFAULT_TARGET_FALLBACK_IPS', () => new Config({ DEFAULT_TARGET_FALLBACK_IPS: h }).defaultTarget.fallbackAddresses);
      return addresses === 'invalid' ? 'invalid' : `ip ${formatIp(addresses[0]!)}`;
    },
  },
  'DNS_SERVERS (no port)': {
    kind: 'beforePort',
    ipOnly: true,
    read: (h) => {
      const dns = fromSetting('DNS_SERVERS', () => new Config({ DNS_SERVERS: h }).dns);
      return dns === 'invalid' ? 'invalid' : `ip ${formatIp(dns.servers[0]!.address)}`;
    },
  },
  'DNS_SERVERS HOST:53': {
    kind: 'beforePort',
    ipOnly: true,
    read: (h) => {
      const dns = fromSetting('DNS_SERVERS', () => new Config({ DNS_SERVERS: `${h}:53` }).dns);
      return dns === 'invalid' ? 'invalid' : `ip ${formatIp(dns.servers[0]!.address)}`;
    },
  },
  'ALLOWED_TARGETS HOST:80': {
    kind: 'beforePort',
    read: (h) => {
      const entries = fromSetting('ALLOWED_TARGETS', () => parseEntries('ALLOWED_TARGETS', `${h}:80`));
      if (entries === 'invalid') return 'invalid';
      const entry = entries[0]!;
      if (entry.kind === 'name') return `name ${entry.name}`;
      // A range entry: the one address it lets through (a /32 or /128 of its own).
      return entry.prefix === (entry.family === 'ipv4' ? 32 : 128) ? `ip ${formatIp(addressFromValue(entry.family, entry.network))}` : 'invalid';
    },
  },
};

describe('a host, as every door reads it', () => {
  describe.each(Object.entries(HOST_DOORS))('%s', (_, door) => {
    test.each(HOSTS)('%j', async (text, caller, alone, beforePort) => {
      const expected = { caller, alone, beforePort }[door.kind];
      expect(await door.read(text)).toBe(door.ipOnly ? ipOnly(expected) : expected);
    });
  });

  const CALLER_DOORS = ['GET /tcp/send?host=', 'GET /?host=', 'POST /tcp/exchange {host}', 'POST /mcp tcp_exchange {host}'];
  test.each(HOSTS.filter(([, caller]) => caller === 'invalid'))('%j is refused with the parser\'s own message at every door a caller names a host at', async (text) => {
    const parsed = (() => {
      try {
        parseHost(text);
      } catch (error) {
        return (error as ServiceError).message;
      }
      return undefined;
    })();
    expect(parsed).toMatch(/^host "/);
    const requests: Record<string, Request> = {
      'GET /tcp/send?host=': get(`/tcp/send?host=${encodeURIComponent(text)}&port=7`),
      'GET /?host=': get(`/?host=${encodeURIComponent(text)}&port=7`),
      'POST /tcp/exchange {host}': post('/tcp/exchange', exchangeBody(text, 7)),
      'POST /mcp tcp_exchange {host}': post('/mcp', mcpBody(text, 7)),
    };
    for (const door of CALLER_DOORS) expect([door, (await throughApp({}, requests[door]!, ['invalid-host'])).message]).toEqual([door, parsed]);
  });

  test('an ALLOWED_TARGETS entry lets exactly its address through, in the form the doors connect to', () => {
    expect(allowedBy('[::ffff:127.0.0.1]:80', '127.0.0.1', 80)).toBe(true);
    expect(allowedBy('[::ffff:127.0.0.0/104]:80', '127.9.9.9', 80)).toBe(true);
    expect(allowedBy('[::ffff:127.0.0.1]:80', '127.0.0.2', 80)).toBe(false);
    expect(allowedBy('Example.COM.:80', 'example.com', 80)).toBe(true);
  });

  test('a DENIED_TARGETS entry written IPv4-mapped denies the IPv4 address it maps', () => {
    const policy = new Config({ DENIED_TARGETS: '[::ffff:192.0.2.7]:*' }).policy;
    expect(() => policy.check(makeTarget('192.0.2.7', 80), [parseHost('192.0.2.7').address!])).toThrow(/DENIED_TARGETS entry "\[::ffff:192.0.2.7\]:\*"/);
  });
});

/** Each port spelling: the port it is, or invalid. The same bounds (1 to 65535, decimal, no sign or leading zero) at every door. */
const PORTS: [text: string, port: number | 'invalid'][] = [
  ['1', 1],
  ['80', 80],
  ['65535', 65535],
  ['0', 'invalid'],
  ['65536', 'invalid'],
  ['-1', 'invalid'],
  ['1e3', 'invalid'],
  ['0x50', 'invalid'],
  ['+80', 'invalid'],
  ['080', 'invalid'],
  ['8O', 'invalid'],
  ['80.5', 'invalid'],
  ['99999999999999999999', 'invalid'],
  ['*', 'invalid'],
];

/** A JSON door sees a number where the spelling is a plain decimal (JSON's `1e3` is just another way to write 1000), else a string. */
const asJson = (text: string): unknown => (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(text) ? Number(text) : text);

const PORT_DOORS: Record<string, (text: string) => Promise<number | 'invalid'> | number | 'invalid'> = {
  'GET /tcp/send?port=': async (p) => {
    const r = await throughApp({}, get(`/tcp/send?host=192.0.2.1&port=${encodeURIComponent(p)}`), ['invalid-port']);
    return r.port ?? 'invalid';
  },
  'GET /?port=': async (p) => (await throughApp({}, get(`/?host=192.0.2.1&port=${encodeURIComponent(p)}`), ['invalid-port'])).port ?? 'invalid',
  'POST /tcp/exchange {port}': async (p) => (await throughApp({}, post('/tcp/exchange', exchangeBody('192.0.2.1', asJson(p))), ['invalid-body'])).port ?? 'invalid',
  'POST /mcp tcp_exchange {port}': async (p) => (await throughApp({}, post('/mcp', mcpBody('192.0.2.1', asJson(p))), ['invalid-body'])).port ?? 'invalid',
  'DEFAULT_TARGET_PORT': (p) => {
    const target = fromSetting('DEFAULT_TARGET_PORT', () => new Config({ DEFAULT_TARGET_PORT: p }).defaultTarget);
    return target === 'invalid' ? 'invalid' : target.port;
  },
  'DNS_SERVERS IP:PORT': (p) => {
    const dns = fromSetting('DNS_SERVERS', () => new Config({ DNS_SERVERS: `192.0.2.1:${p}` }).dns);
    return dns === 'invalid' ? 'invalid' : dns.servers[0]!.port;
  },
  'ALLOWED_TARGETS IP:PORT': (p) => {
    const entries = fromSetting('ALLOWED_TARGETS', () => parseEntries('ALLOWED_TARGETS', `192.0.2.1:${p}`));
    if (entries === 'invalid') return 'invalid';
    const port = entries[0]!.port;
    return port === '*' ? 'invalid' : port;
  },
};

describe('a port, as every door reads it', () => {
  describe.each(Object.entries(PORT_DOORS))('%s', (_, read) => {
    test.each(PORTS)('%j', async (text, expected) => {
      expect(await read(text)).toBe(expected);
    });
  });

  /** What a JSON door says of a port it refuses: the schema's bound for a whole number, its type for anything else. */
  const jsonPortMessage = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value)
      ? `port: is ${value}; give 1 to 65535 (the schema is in GET /openapi.json)`
      : `port: is ${typeof value === 'number' ? `the number ${value} (not whole)` : `the string ${JSON.stringify(value)}`}; give a whole number (the schema is in GET /openapi.json)`;
  test.each(PORTS.filter(([, port]) => port === 'invalid'))('%j is refused with a message that names the port and the form it must take', async (text) => {
    const query = `port ${JSON.stringify(text)} is not a port number: use a decimal number from 1 to 65535`;
    const answers = {
      'GET /tcp/send?port=': await throughApp({}, get(`/tcp/send?host=192.0.2.1&port=${encodeURIComponent(text)}`), ['invalid-port']),
      'GET /?port=': await throughApp({}, get(`/?host=192.0.2.1&port=${encodeURIComponent(text)}`), ['invalid-port']),
      'POST /tcp/exchange {port}': await throughApp({}, post('/tcp/exchange', exchangeBody('192.0.2.1', asJson(text))), ['invalid-body']),
      'POST /mcp tcp_exchange {port}': await throughApp({}, post('/mcp', mcpBody('192.0.2.1', asJson(text))), ['invalid-body']),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([door, answer]) => [door, answer.message]))).toEqual({
      'GET /tcp/send?port=': query,
      'GET /?port=': query,
      'POST /tcp/exchange {port}': jsonPortMessage(asJson(text)),
      'POST /mcp tcp_exchange {port}': jsonPortMessage(asJson(text)),
    });
  });
});

/** List spellings: how many items each list setting reads from them, or invalid. */
const LISTS: [text: string, items: number | 'invalid'][] = [
  ['ITEM', 1],
  [' ITEM , ITEM ', 2],
  ['ITEM,,ITEM', 2],
  [',ITEM,', 1],
  [' , ', 0],
  ['', 0],
  ['ITEM;ITEM', 'invalid'],
  ['ITEM ITEM', 'invalid'],
];

const LIST_DOORS: Record<string, { item: string; count: (raw: string) => number }> = {
  ALLOWED_TARGETS: { item: '192.0.2.1:80', count: (raw) => parseEntries('ALLOWED_TARGETS', raw).length },
  DENIED_TARGETS: { item: '192.0.2.1:80', count: (raw) => parseEntries('DENIED_TARGETS', raw).length },
  DNS_SERVERS: { item: '192.0.2.1', count: (raw) => new Config({ DNS_SERVERS: raw }).dns.servers.length },
  DEFAULT_TARGET_FALLBACK_IPS: { item: '192.0.2.1', count: (raw) => new Config({ DEFAULT_TARGET_FALLBACK_IPS: raw }).defaultTarget.fallbackAddresses.length },
};

describe('a comma-separated setting, as every list setting reads it', () => {
  describe.each(Object.entries(LIST_DOORS))('%s', (name, door) => {
    test.each(LISTS)('%j', (text, expected) => {
      expect(fromSetting(name, () => door.count(text.replaceAll('ITEM', door.item)))).toBe(expected);
    });
  });
});

describe('a malformed entry is named, whichever list it is in', () => {
  test.each([
    ['ALLOWED_TARGETS', '192.0.2.1:80, nonsense:x'],
    ['DENIED_TARGETS', '192.0.2.1:80, nonsense:x'],
    ['DNS_SERVERS', '192.0.2.1, nonsense:x'],
    ['DEFAULT_TARGET_FALLBACK_IPS', '192.0.2.1, nonsense:x'],
  ])('%s=%j', (name, raw) => {
    const problem = new Config({ [name]: raw }).problems.find((p) => p.setting === name);
    expect(problem?.message).toContain(`malformed entry "nonsense:x"`);
  });
});
