// The console's records list at 100,000 records, in Chromium (issue 13):
// time to first byte and to interactive as the browser's Navigation Timing
// reports them, p50/p99 over repeated loads, for the first and a deep page.
// The server side of the same list, and the raw store query beside it, are
// printed by the bench this starts (`cargo bench -p sync-server --bench
// console -- --serve`), in the same run. Not part of CI: scripts/console-timing.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, freePort } from './harness.mjs';
import { totp } from './totp.mjs';
import { Session, driverReady, until } from './webdriver.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 50);

const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];
};

const bench = spawn('cargo', ['bench', '-q', '-p', 'sync-server', '--bench', 'console', '--', '--serve'], {
  cwd: ROOT,
  stdio: ['pipe', 'pipe', 'inherit'],
});
const facts = {};
const lines = readline.createInterface({ input: bench.stdout });
lines.on('line', (l) => {
  const m = /^([A-Z_]+)=(.*)$/.exec(l);
  if (m) facts[m[1]] = m[2];
  else console.log(l);
});
await until('the bench to fill 100,000 records and serve', () => facts.DEEP_BEFORE, 3_600_000, 1000);

const port = await freePort();
const driver = spawn('/usr/bin/chromedriver', [`--port=${port}`], { stdio: 'ignore', detached: true });
const base = `http://127.0.0.1:${port}`;
await driverReady(base);
const profile = path.join(ROOT, 'target', 'console-timing-profile');
fs.rmSync(profile, { recursive: true, force: true });
const s = await Session.start(base, {
  browserName: 'chrome',
  'goog:chromeOptions': { binary: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`] },
});
const E = 'element-6066-11e4-a52e-4f735466cecf';
const el = async (css) => until(css, async () => (await s.cmd('POST', '/elements', { using: 'css selector', value: css }))[0]?.[E]);
try {
  await s.cmd('POST', '/url', { url: facts.ADMIN_LINK });
  const secret = await s.cmd('GET', `/element/${await el('[data-testid="setup-secret"]')}/text`);
  for (const [name, value] of [['password', 'Records-Ops-2026'], ['password2', 'Records-Ops-2026'], ['code', totp(secret)]]) {
    await s.cmd('POST', `/element/${await el(`form[data-testid="setup-form"] input[name="${name}"]`)}/value`, { text: value });
  }
  await s.cmd('POST', `/element/${await el('form[data-testid="setup-form"] button[type="submit"]')}/click`, {});
  await until('signed in', async () => (await s.cmd('GET', '/url')).endsWith('/console'));
  for (const [label, p] of [['first page', '/console/records'], ['deep page', `/console/records?before=${facts.DEEP_BEFORE}`]]) {
    const ttfb = [];
    const interactive = [];
    for (let i = 0; i < ROUNDS; i++) {
      await s.cmd('POST', '/url', { url: facts.CONSOLE_URL + p });
      const t = await s.exec(`const n = performance.getEntriesByType('navigation')[0];
        return [n.responseStart - n.requestStart, n.domInteractive - n.startTime, document.querySelectorAll('[data-testid="record-row"]').length];`);
      if (t[2] !== 50) throw new Error(`${p}: ${t[2]} rows`);
      ttfb.push(t[0]);
      interactive.push(t[1]);
    }
    console.log(`  in Chromium, admin, ${label} (${ROUNDS} loads): first byte p50 ${q(ttfb, 50).toFixed(1)} ms  p99 ${q(ttfb, 99).toFixed(1)} ms; interactive p50 ${q(interactive, 50).toFixed(1)} ms  p99 ${q(interactive, 99).toFixed(1)} ms`);
  }
} finally {
  await s.cmd('DELETE', '').catch(() => {});
  try {
    process.kill(-driver.pid, 'SIGTERM');
  } catch {
    // gone
  }
  bench.stdin.end();
  await new Promise((r) => bench.on('exit', r));
}
