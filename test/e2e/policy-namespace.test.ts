// The destination policy on a real host that can reach nothing but loopback: the local host (npm start) runs in a
// network namespace of this suite's own with only `lo`, so an address the policy wrongly let through would fail
// as unreachable (not 403 destination-denied), and no packet it sends can leave the machine.

import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localHost, selectHosts, type RunningHost } from '../support/hosts.js';
import { startLocalHost } from '../support/host-process.mjs';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('../support/namespace-client.mjs', import.meta.url));
const NAMESPACE = `aas-policy-${process.pid}-${Date.now().toString(36)}`;
/** The internet allowed, as the local profile does: the built-in classes must hold even then (the dangerous case). */
const ALLOWED_TARGETS = '[::/0]:*,0.0.0.0/0:*';

/** Why this suite cannot run here: `ip netns` is missing or not permitted (it needs root), or TEST_HOSTS leaves the local host out. */
function unavailable(): string | undefined {
  const host = selectHosts([localHost])[0]!;
  if (host.unavailable) return host.unavailable;
  const probe = `${NAMESPACE}-probe`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.error) return `ip (iproute2) is not available: ${added.error.message}`;
  if (added.status !== 0) return `ip netns add is not permitted here (it needs root): ${added.stderr.trim()}`;
  spawnSync('ip', ['netns', 'delete', probe]);
  return undefined;
}

const skipReason = unavailable();
if (skipReason) console.log(`network namespace policy suite skipped: ${skipReason}`);

/** Runs the namespace client inside the namespace. */
const inNamespace = (args: string[]) => run('ip', ['netns', 'exec', NAMESPACE, process.execPath, CLIENT, ...args], { encoding: 'utf8' });

/** A denied address, and what the refusal must name: the range and its class, or the IPv4 address it carries and the form. */
const DENIED: [host: string, named: string][] = [
  // Denied as classes of their own: local-use NAT64 (here carrying 8.8.8.8, so only its class stops it), Teredo, site-local.
  ['[64:ff9b:1:808:8:800::]', 'is in 64:ff9b:1::/48 (NAT64 local-use), denied by default'],
  ['[64:ff9b:1::1]', 'is in 64:ff9b:1::/48 (NAT64 local-use), denied by default'],
  ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', 'is in 2001::/32 (Teredo), denied by default'],
  ['[2001::1]', 'is in 2001::/32 (Teredo), denied by default'],
  ['[fec0::1]', 'is in fec0::/10 (site-local (deprecated)), denied by default'],
  // Classes denied before, in plain, IPv4-mapped and embedded forms.
  ['127.0.0.1', 'is in 127.0.0.0/8 (loopback), denied by default'],
  ['2130706433', 'is in 127.0.0.0/8 (loopback), denied by default'],
  ['[::1]', 'is in ::1/128 (loopback), denied by default'],
  ['[::ffff:169.254.169.254]', 'is in 169.254.0.0/16 (link-local, cloud metadata), denied by default'],
  ['[::ffff:a00:1]', 'is in 10.0.0.0/8 (private network), denied by default'],
  ['[64:ff9b::a9fe:a9fe]', '(it carries the IPv4 address 169.254.169.254 as NAT64 (64:ff9b::/96))'],
  ['[2002:a00:1::1]', '(it carries the IPv4 address 10.0.0.1 as 6to4 (2002::/16))'],
  ['[::7f00:1]', '(it carries the IPv4 address 127.0.0.1 as IPv4-compatible (::/96))'],
  ['[fd00:ec2::254]', 'is in fc00::/7 (unique local), denied by default'],
  ['100.64.0.1', 'is in 100.64.0.0/10 (carrier-grade NAT), denied by default'],
];

describe.skipIf(skipReason !== undefined)(`destination policy on the local host in a network namespace with only loopback${skipReason ? ' (skipped)' : ''}`, () => {
  let host: RunningHost;

  beforeAll(async () => {
    await run('ip', ['netns', 'add', NAMESPACE]);
    await run('ip', ['-n', NAMESPACE, 'link', 'set', 'lo', 'up']);
    const ready = (url: string) => inNamespace(['health', url, '2000']).then(() => true, () => false);
    host = await startLocalHost(
      { ALLOWED_TARGETS, CONNECT_TIMEOUT_MS: '2000', REQUEST_DEADLINE_MS: '5000' },
      process.execPath,
      { launcher: ['ip', 'netns', 'exec', NAMESPACE], ready },
    );
  });

  afterAll(async () => {
    await host?.close();
    spawnSync('ip', ['netns', 'delete', NAMESPACE]);
  });

  /** GET /tcp/send to `target` on port 80, asked from inside the namespace: the status and the JSON error. */
  async function send(target: string): Promise<{ status: number; code?: string; message?: string }> {
    const { stdout } = await inNamespace(['get', host.url, `/tcp/send?host=${encodeURIComponent(target)}&port=80&msg=x`]);
    const [reply] = JSON.parse(stdout) as { status: number; text: string }[];
    const error = (JSON.parse(reply!.text) as { error?: { code?: string; message?: string } }).error;
    return { status: reply!.status, code: error?.code, message: error?.message };
  }

  test('the namespace has loopback and nothing else, so nothing the host sends can leave the machine', async () => {
    const { stdout: links } = await run('ip', ['-n', NAMESPACE, '-o', 'link', 'show'], { encoding: 'utf8' });
    expect(links.trim().split('\n').map((line) => line.split(': ')[1])).toEqual(['lo']);
    const { stdout: routes } = await run('ip', ['-n', NAMESPACE, 'route', 'show', 'default'], { encoding: 'utf8' });
    expect(routes.trim()).toBe('');
  });

  test('an address the policy allows fails there as unreachable, not 403: what a wrongly allowed one would get', async () => {
    for (const target of ['192.0.2.1', '[2606:4700:4700::1111]']) {
      const reply = await send(target);
      expect({ target, status: reply.status }).not.toEqual({ target, status: 403 });
      expect({ target, code: reply.code }).toEqual({ target, code: 'host-unreachable' });
    }
  });

  test.each(DENIED)('%s is 403 destination-denied, naming %j', async (target, named) => {
    const reply = await send(target);
    expect({ status: reply.status, code: reply.code }).toEqual({ status: 403, code: 'destination-denied' });
    expect(reply.message).toContain(named);
  });
});
