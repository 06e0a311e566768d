// A GET client for a host in another network namespace, run there with `ip netns exec` (the test's own fetch
// reaches only its own namespace). `health BASE WAIT_MS`: exits 0 once GET BASE/health answers 200 within
// WAIT_MS, 1 if not. `get BASE PATH...`: GETs each path in turn and prints [{ status, text }] as JSON.

const [mode, base, ...rest] = process.argv.slice(2);

/**
 * Whether GET /health answers 200 before `waitMs` pass, polling: the host may still be loading its workers.
 * @param {number} waitMs
 */
async function healthy(waitMs) {
  const until = performance.now() + waitMs;
  while (performance.now() < until) {
    if (await fetch(`${base}/health`).then((r) => r.status === 200, () => false)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

if (mode === 'health') {
  process.exit((await healthy(Number(rest[0]))) ? 0 : 1);
} else if (mode === 'get') {
  /** @type {{ status: number, text: string }[]} */
  const replies = [];
  for (const path of rest) {
    const response = await fetch(`${base}${path}`);
    replies.push({ status: response.status, text: await response.text() });
  }
  process.stdout.write(JSON.stringify(replies));
} else {
  process.stderr.write(`usage: namespace-client.mjs health BASE WAIT_MS | get BASE PATH...\n`);
  process.exit(2);
}
