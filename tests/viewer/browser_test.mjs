// `ritma serve` in a real browser: headless Chromium (Debian's `chromium`) driven by
// playwright-core (installed into tests/viewer/node_modules by scripts/setup.sh). Over a ProofPack
// exported from a synthetic store (the store itself when `ritma export-proof` is not built), it
// checks that the timeline shows every window, filters the event table down to the one curl
// exec, opens it and sees its inclusion proof verified by the page's own WebCrypto computation,
// and that a tampered proof is refused; and that the page asks nothing of any other host.
// Screenshots go to --artifacts. Exit 0 pass, 1 fail, 77 skip (only without CI=true).
//
//   node browser_test.mjs --ritma BIN --fixture BIN --artifacts DIR
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const inCi = ['true', '1', 'yes'].includes(String(process.env.CI || '').toLowerCase());
const chromiumPath = process.env.RITMA_CHROMIUM || '/usr/bin/chromium';

function unavailable(what) {
  if (inCi) {
    console.error(`FAIL: ${what} (CI=true: the browser test must run; scripts/setup.sh installs it)`);
    process.exit(1);
  }
  console.log(`SKIP: ${what}; run scripts/setup.sh (or set CI=true to make this a failure)`);
  process.exit(77);
}

for (const k of ['ritma', 'fixture', 'artifacts']) {
  if (!args[k]) { console.error(`usage: node browser_test.mjs --ritma BIN --fixture BIN --artifacts DIR (missing --${k})`); process.exit(2); }
}
if (!fs.existsSync(chromiumPath)) unavailable(`no Chromium at ${chromiumPath} (Debian package chromium)`);
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (err) {
  unavailable(`playwright-core is not installed in tests/viewer/node_modules (${err.code || err.message})`);
}

const failures = [];
function check(cond, what) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}`);
  if (!cond) failures.push(what);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ritma-viewer-'));
fs.mkdirSync(args.artifacts, { recursive: true });
let serve = null;
let context = null;

async function startServe(serveArgs) {
  const child = spawn(args.ritma, ['serve', ...serveArgs, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: child.stdout });
  const line = await Promise.race([
    new Promise((resolve) => rl.once('line', resolve)),
    new Promise((_, reject) => setTimeout(() => reject(new Error('ritma serve printed no address in 20 s')), 20000)),
    new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`ritma serve exited with ${code}`)))),
  ]);
  return { child, info: JSON.parse(line) };
}

try {
  const base = path.join(tmp, 'base');
  const fx = spawnSync(args.fixture, [base], { encoding: 'utf8' });
  if (fx.status !== 0) throw new Error(`viewer_fixture failed: ${fx.stderr}`);
  const fixture = JSON.parse(fx.stdout);

  // A real bundle when this build can export one; else the store itself.
  const bundle = path.join(tmp, 'bundle.tar.zst');
  const from = String(fixture.from_ns / 1e9), to = String(fixture.to_ns / 1e9);
  const ex = spawnSync(args.ritma, ['export-proof', '--base-dir', base, '--from', from, '--to', to,
                                    '--out', bundle, '--quiet'], { encoding: 'utf8' });
  let serveArgs;
  if (ex.status === 0 && fs.existsSync(bundle)) {
    serveArgs = ['--bundle', bundle];
  } else {
    serveArgs = ['--base-dir', base];
    console.log(`NOTE: ritma export-proof is not available (${(ex.stderr || '').trim().split('\n')[0]}); serving the synthetic store`);
  }
  const started = await startServe(serveArgs);
  serve = started.child;
  const { url } = started.info;
  console.log(`ritma serve: ${url} (${started.info.source} ${started.info.path})`);
  check(started.info.source === (serveArgs[0] === '--bundle' ? 'bundle' : 'store'), `serving the ${started.info.source}`);
  const summary = await (await fetch(new URL('/api/summary', url))).json();
  check(summary.windows === fixture.windows, `the API lists the fixture's ${fixture.windows} windows (${summary.windows})`);

  const userDataDir = path.join(tmp, 'chromium-profile');
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 1000 },
  });
  const page = context.pages()[0] || await context.newPage();
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(url)) foreign.push(r.url()); });
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  const cells = await page.locator('[data-testid="timeline-window"]').count();
  check(cells === summary.windows, `the timeline shows ${cells} windows, the API ${summary.windows}`);
  const withEvents = await page.locator('[data-testid="timeline-window"].sealed').count();
  check(withEvents === fixture.windows, `all ${fixture.windows} windows are shown sealed with their events (${withEvents})`);
  const minutes = await page.locator('[data-testid="timeline-minute"]').count();
  check(minutes === 2, `the windows fall into 2 minutes (${minutes})`);
  // The shell (pid 100) forked pid 202, which exec'd curl: a child of the shell in the tree.
  const curlNode = page.locator('[data-testid="tree-process"][data-pid="100"] [data-testid="tree-process"][data-pid="202"]');
  check(await curlNode.count() === 1 && (await curlNode.textContent()).includes('/usr/bin/curl'),
        'the process tree shows curl (pid 202) under the shell (pid 100)');
  const shot1 = path.join(args.artifacts, 'viewer-timeline.png');
  await page.screenshot({ path: shot1, fullPage: true });

  await page.selectOption('[data-testid="filter-type"]', 'exec');
  await page.fill('[data-testid="filter-q"]', 'curl');
  await page.click('[data-testid="filter-apply"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="events-status"]').dataset.count === '1', null, { timeout: 15000 });
  const rows = page.locator('[data-testid="event-row"]');
  check(await rows.count() === 1, 'the filters leave one event');
  check(await rows.first().getAttribute('data-type') === 'exec', 'it is an exec');
  check(await rows.first().getAttribute('data-seq') === String(fixture.curl_seq), `it is seq ${fixture.curl_seq}`);

  await rows.first().click();
  const status = page.locator('[data-testid="proof-status"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="proof-status"]').dataset.verified !== 'pending', null, { timeout: 15000 });
  const verified = await status.getAttribute('data-verified');
  const text = await status.textContent();
  check(verified === 'true' && text.startsWith('inclusion verified in this browser'), `the page verified the proof: "${text}"`);
  check(await page.locator('[data-testid="server-status"]').getAttribute('data-ok') === 'true', 'the server verified the signatures');
  const shot2 = path.join(args.artifacts, 'viewer-event-proof.png');
  await page.screenshot({ path: shot2, fullPage: true });

  // The same event with one hash of its path changed: the page must say it failed.
  await page.route('**/api/event/*/*/proof', async (route) => {
    const res = await route.fetch();
    const p = await res.json();
    const h = p.event_path.length ? p.event_path[0] : p.atom;
    const flipped = (h[0] === '0' ? '1' : '0') + h.slice(1);
    if (p.event_path.length) p.event_path[0] = flipped; else p.atom = flipped;
    await route.fulfill({ response: res, json: p });
  });
  await rows.first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid="proof-status"]').dataset.verified !== 'pending', null, { timeout: 15000 });
  const tampered = await status.getAttribute('data-verified');
  const tamperedText = await status.textContent();
  check(tampered === 'false' && tamperedText.includes('FAILED'), `a tampered proof is refused: "${tamperedText}"`);
  const shot3 = path.join(args.artifacts, 'viewer-event-proof-tampered.png');
  await page.screenshot({ path: shot3, fullPage: true });
  await page.unroute('**/api/event/*/*/proof');

  await page.click('#tab-report');
  await page.waitForSelector('[data-testid="report-result"]', { timeout: 30000 });
  check(await page.locator('[data-testid="report"]').getAttribute('data-ok') === 'true', 'the verification report says verified');
  const shot4 = path.join(args.artifacts, 'viewer-report.png');
  await page.screenshot({ path: shot4, fullPage: true });

  check(foreign.length === 0, `no request left the viewer (${foreign.join(', ') || 'none'})`);
  check(consoleErrors.length === 0, `no script errors (${consoleErrors.join('; ') || 'none'})`);
  console.log(`screenshots:\n  ${[shot1, shot2, shot3, shot4].join('\n  ')}`);
} catch (err) {
  console.error(`FAIL: ${err.stack || err.message}`);
  failures.push(err.message);
} finally {
  if (context) await context.close().catch(() => {});
  if (serve) serve.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
}

if (failures.length) {
  console.error(`${failures.length} check(s) failed`);
  process.exit(1);
}
console.log('viewer browser test: passed');
