// The web console (issue 13) in headless Chromium (Debian's `chromium` and
// `chromium-driver`), through WebDriver, against a real sync server with
// the demo data: an administrator sets up their account and registers a
// project with its site, a person with a letter and a grant; a city
// inspector signs in by scanning the console's QR with a real field engine
// (field-sim, the engine the app runs); county regulators see their own
// county only and the province both (R18); a lab account cannot open face
// photos (PIPL); oversight (issue 16): a sampling nobody witnesses is raised
// on the server's clock and shown with its warning, evidence and live feed,
// and a spot-check draw is announced, drawn and recomputed from its public
// page. A screenshot of every page visited lands in target/console-ui/.
//
//   node --test --test-force-exit tests/ui/console.test.mjs  (scripts/e2e-console wraps it)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, FACES, ROOT, freePort, stopAll, syncServer, tagPhoto } from './harness.mjs';
import { totp } from './totp.mjs';
import { Session, driverReady, until } from './webdriver.mjs';

const ART = path.join(ROOT, 'target', 'console-ui');
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
let server;
let driverBase;
let driverProc;
const sessions = [];
let shot = 0;
/** Browsers signed in by one test and used again by later ones. */
const signedIn = {};

// ------------------------------------------------------------ a browser

/** A Chromium window: pages by path, elements by CSS, a screenshot of each page. */
class Browser extends Session {
  static async open(name, size = '1280,1000') {
    const profile = path.join(ART, 'profiles', name);
    fs.rmSync(profile, { recursive: true, force: true });
    const s = await Session.start(driverBase, {
      browserName: 'chrome',
      'goog:chromeOptions': {
        binary: process.env.CHROMIUM ?? '/usr/bin/chromium',
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', `--window-size=${size}`, '--lang=zh-CN', `--user-data-dir=${profile}`],
        // What a Chinese office PC's browser asks for: the console answers in its language.
        prefs: { 'intl.accept_languages': 'zh-CN,zh' },
      },
    });
    const b = new Browser(s.base, s.id);
    b.name = name;
    sessions.push(b);
    return b;
  }

  async go(p) {
    await this.cmd('POST', '/url', { url: server.url + p });
  }

  async url() {
    return (await this.cmd('GET', '/url')).replace(server.url, '');
  }

  async $(css) {
    const els = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return els.length ? els[0][ELEMENT] : null;
  }

  async $$(css) {
    return (await this.cmd('POST', '/elements', { using: 'css selector', value: css })).map((e) => e[ELEMENT]);
  }

  async fill(css, text) {
    const el = await until(css, () => this.$(css));
    await this.cmd('POST', `/element/${el}/clear`, {});
    await this.cmd('POST', `/element/${el}/value`, { text });
  }

  async choose(css, value) {
    const el = await until(css, () => this.$(css));
    await this.exec('arguments[0].value = arguments[1];', { [ELEMENT]: el }, value);
  }

  async press(css) {
    const el = await until(css, () => this.$(css));
    await this.cmd('POST', `/element/${el}/click`, {});
  }

  /** Submit the form with this data-testid (its submit button) and wait for the answer's page. */
  async submit(testid) {
    await this.exec('window.__submitted = true;');
    await this.press(`form[data-testid="${testid}"] button[type="submit"]`);
    await until(`the answer to ${testid}`, async () =>
      (await this.exec('return window.__submitted === undefined && document.readyState === "complete";')));
  }

  async textOf(css) {
    const el = await until(css, () => this.$(css));
    return this.cmd('GET', `/element/${el}/text`);
  }

  async attrs(css, name) {
    const out = [];
    for (const el of await this.$$(css)) out.push(await this.cmd('GET', `/element/${el}/attribute/${name}`));
    return out;
  }

  async body() {
    return this.exec('return document.body.innerText;');
  }

  async snap(label) {
    shot += 1;
    const file = path.join(ART, `${String(shot).padStart(2, '0')}-${this.name}-${label}.png`);
    fs.writeFileSync(file, Buffer.from(await this.cmd('GET', '/screenshot'), 'base64'));
  }

  /** Open a page, wait for it to have loaded, keep its screenshot. */
  async visit(p, label) {
    await this.go(p);
    await until(`${p} loaded`, async () => (await this.exec('return document.readyState;')) === 'complete');
    await this.snap(label);
  }
}

/** Finish an account's setup link: password, then the authenticator's code. */
async function setUp(b, link, password) {
  await b.cmd('POST', '/url', { url: link });
  await until('the setup page', async () => (await b.url()).startsWith('/console/setup'));
  await b.snap('setup');
  const secret = await b.textOf('[data-testid="setup-secret"]');
  await b.fill('form[data-testid="setup-form"] input[name="password"]', password);
  await b.fill('form[data-testid="setup-form"] input[name="password2"]', password);
  await b.fill('form[data-testid="setup-form"] input[name="code"]', totp(secret));
  await b.submit('setup-form');
  const outcome = await until('signed in after setup, or told why not', async () => {
    if ((await b.url()) === '/console') return 'ok';
    const refused = await b.$('[data-testid="setup-error"]');
    return refused ? b.cmd('GET', `/element/${refused}/text`) : null;
  });
  assert.equal(outcome, 'ok', 'setup refused');
  return secret;
}

async function projectsSeen(b, label) {
  await b.visit('/console/projects', `projects-${label}`);
  return (await b.attrs('[data-testid="project-row"]', 'data-project')).sort();
}

function fieldSim(dir, ...args) {
  return execFileSync(path.join(BIN, 'field-sim'), ['--data', dir, ...args], { encoding: 'utf8', cwd: ROOT });
}

// ------------------------------------------------------------ the run

before(async () => {
  fs.rmSync(ART, { recursive: true, force: true });
  fs.mkdirSync(ART, { recursive: true });
  // A short witness window and a fast oversight pass, so that a sampling
  // nobody witnesses is found missed within seconds (no witness phone is
  // enrolled here, so nothing can be pending); one decided sampling is
  // enough for a rate warning.
  server = await syncServer('console', {
    JZQY_POLICY__WITNESS_WINDOW_MS: '2000',
    JZQY_OVERSIGHT__INTERVAL_MS: '500',
    JZQY_OVERSIGHT__PROJECT__MIN_SAMPLINGS: '1',
  });
  const port = await freePort();
  const logFd = fs.openSync(path.join(ART, 'chromedriver.log'), 'a');
  driverProc = spawn(process.env.CHROMEDRIVER ?? '/usr/bin/chromedriver', [`--port=${port}`], { stdio: ['ignore', logFd, logFd], detached: true });
  driverBase = `http://127.0.0.1:${port}`;
  await driverReady(driverBase);
  // A sampling with the sampler's face, through the real engine.
  const sampler = path.join(ART, 'devices', 'sampler');
  fs.mkdirSync(sampler, { recursive: true });
  fieldSim(sampler, 'enroll', server.offers['P-ZHANGWEI']);
  const tag = tagPhoto(1201, path.join(sampler, 'tag.jpg'));
  const face = path.join(FACES, 'obama.jpg');
  fieldSim(sampler, 'sample', '--tag', tag, '--unit', 'UP-1', '--face-ref', face, '--face', face, '--confirm');
  fieldSim(sampler, 'sync');
});

after(async () => {
  for (const s of sessions) await s.close();
  if (driverProc) {
    try {
      process.kill(-driverProc.pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  await stopAll();
  console.log(`# screenshots in ${ART}`);
});

const link = (login) => fs.readFileSync(path.join(server.data, 'demo-console', `${login}.txt`), 'utf8').trim();

test('an administrator sets up, then registers a project with its site, a person with a letter, a grant', async () => {
  const b = await Browser.open('admin');
  await b.visit('/console', 'before-sign-in');
  assert.match(await b.url(), /^\/console\/login\?next=/, 'sent to sign in');
  await setUp(b, link('admin'), 'Yingkou-Ops-2026');
  await b.snap('home');

  await b.visit('/console/admin/projects', 'sites');
  await b.fill('form[data-testid="project-form"] input[name="id"]', 'PRJ-UI-1');
  await b.fill('form[data-testid="project-form"] input[name="name"]', '浏览器测试项目');
  await b.choose('form[data-testid="project-form"] select[name="owner"]', 'ORG-OWN-HX');
  await b.fill('form[data-testid="project-form"] input[name="jurisdiction"]', '210802');
  await b.submit('project-form');
  await until('the new project page', async () => (await b.url()) === '/console/projects/PRJ-UI-1');
  await b.visit('/console/admin/projects', 'sites-again');
  const square = JSON.stringify({ type: 'Polygon', coordinates: [[[122.24, 40.667], [122.241, 40.667], [122.241, 40.668], [122.24, 40.668], [122.24, 40.667]]] });
  await b.fill('form[data-testid="unit-form"] input[name="id"]', 'UP-UI-1');
  await b.choose('form[data-testid="unit-form"] select[name="project"]', 'PRJ-UI-1');
  await b.fill('form[data-testid="unit-form"] input[name="name"]', '5#楼');
  await b.choose('form[data-testid="unit-form"] select[name="datum"]', 'gcj02');
  await b.fill('form[data-testid="unit-form"] textarea[name="geojson"]', square);
  await b.submit('unit-form');
  await until('the project page with its unit', async () => (await b.body()).includes('5#楼'));
  assert.ok(await b.$('figure svg, .maps svg, svg'), 'the site drawn on a map');
  await b.snap('project-with-site');

  await b.visit('/console/admin/people', 'people');
  await b.fill('form[data-testid="person-form"] input[name="id"]', 'P-UI-1');
  await b.fill('form[data-testid="person-form"] input[name="name"]', '陈晨');
  await b.choose('form[data-testid="person-form"] select[name="org"]', 'ORG-CON-ZJ');
  await b.submit('person-form');
  await b.visit('/console/admin/people/P-UI-1', 'person');
  const letter = path.join(ART, 'letter.pdf');
  fs.writeFileSync(letter, '%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
  await b.fill('form[data-testid="grant-form"] input[name="grant"]', 'G-UI-1');
  await b.choose('form[data-testid="grant-form"] select[name="role"]', 'sampler');
  await b.choose('form[data-testid="grant-form"] select[name="project"]', 'PRJ-UI-1');
  const file = await b.$('form[data-testid="grant-form"] input[name="letter"]');
  await b.cmd('POST', `/element/${file}/value`, { text: letter });
  await b.submit('grant-form');
  await until('the grant on the person page', async () => (await b.attrs('[data-testid="grant-row"]', 'data-grant')).includes('G-UI-1'));
  await b.snap('person-with-grant');
  // The console's other administration pages render.
  for (const [p, label] of [
    ['/console/admin/orgs', 'orgs'],
    ['/console/admin/devices', 'devices'],
    ['/console/admin/accounts', 'accounts'],
    ['/console/admin/audit', 'audit'],
    ['/console/admin/status', 'status'],
    ['/console/records', 'records'],
    ['/console/violations', 'violations'],
    ['/console/account', 'account'],
  ]) {
    await b.visit(p, label);
    assert.ok(!(await b.body()).includes('内部错误'), `${p} renders`);
  }
  await b.visit('/console/admin/audit', 'audit-after');
  const actions = await b.attrs('[data-testid="audit-row"]', 'data-action');
  for (const a of ['setup', 'add_project', 'add_unit', 'add_person', 'grant']) assert.ok(actions.includes(a), `${a} in the audit log`);
  // A lab account, for the lab's test below.
  await b.visit('/console/admin/accounts', 'accounts-before');
  await b.fill('form[data-testid="account-form"] input[name="login"]', 'wangqiang');
  await b.fill('form[data-testid="account-form"] input[name="name"]', '王强（检测中心）');
  await b.choose('form[data-testid="account-form"] select[name="person"]', 'P-WANGQIANG');
  await b.submit('account-form');
  const setupLink = (await b.textOf('[data-testid="setup-link"] code')).trim();
  assert.match(setupLink, /\/console\/setup\?token=/);
  fs.writeFileSync(path.join(ART, 'lab-link.txt'), setupLink);
  await b.snap('account-created');
  // The lab's reviewer (刘洋), for the lab desk's signing below.
  await b.visit('/console/admin/accounts', 'accounts-reviewer');
  await b.fill('form[data-testid="account-form"] input[name="login"]', 'liuyang');
  await b.fill('form[data-testid="account-form"] input[name="name"]', '刘洋（检测中心）');
  await b.choose('form[data-testid="account-form"] select[name="person"]', 'P-LIUYANG');
  await b.submit('account-form');
  fs.writeFileSync(path.join(ART, 'reviewer-link.txt'), (await b.textOf('[data-testid="setup-link"] code')).trim());
  // English on request.
  await b.go('/console/lang?to=en&back=/console/projects');
  await until('English', async () => (await b.exec('return document.documentElement.lang;')) === 'en');
  await b.snap('projects-en');
});

test('a city inspector signs in by scanning the console QR with the field engine', async () => {
  const phone = path.join(ART, 'devices', 'inspector');
  fs.mkdirSync(phone, { recursive: true });
  fieldSim(phone, 'enroll', server.offers['P-ZHAOMIN']);
  const b = await Browser.open('city-qr');
  await b.visit('/console/login?next=/console/projects', 'login');
  assert.ok(await b.$('[data-testid="login-qr"] svg'), 'the QR is drawn');
  const qr = await b.exec('return document.querySelector(\'[data-testid="login-qr-text"]\').textContent.trim();');
  const shown = fieldSim(phone, 'console', qr);
  assert.match(shown, /127\.0\.0\.1 .*pending=true/, `the phone sees where the request comes from: ${shown}`);
  fieldSim(phone, 'console', qr, '--approve');
  // htmx polls and follows the approval into the console.
  await until('signed in by the phone', async () => (await b.url()) === '/console/projects', 20_000);
  await b.snap('signed-in-by-qr');
  assert.deepEqual((await b.attrs('[data-testid="project-row"]', 'data-project')).sort(), ['PRJ-UI-1', 'PRJ-YK-2026-001', 'PRJ-YK-2026-002']);
});

test('county regulators see their own county only; the province sees both', async () => {
  const zq = await Browser.open('zhanqian');
  await setUp(zq, link('zhoujie'), 'Zhanqian-Reg-2026');
  assert.deepEqual(await projectsSeen(zq, 'zhanqian'), ['PRJ-UI-1', 'PRJ-YK-2026-001']);
  await zq.visit('/console/projects/PRJ-YK-2026-002', 'zhanqian-other-county');
  assert.match(await zq.body(), /R18/, 'the other county is refused, saying why');
  const xs = await Browser.open('xishi');
  await setUp(xs, link('wuhao'), 'Xishi-Reg-20266');
  assert.deepEqual(await projectsSeen(xs, 'xishi'), ['PRJ-YK-2026-002']);
  const records = await xs.attrs('[data-testid="record-row"]', 'data-project');
  assert.ok(records.every((p) => p === 'PRJ-YK-2026-002'), `no record of another county: ${records}`);
  const province = await Browser.open('province');
  await setUp(province, link('sunli'), 'Liaoning-Reg-2026');
  Object.assign(signedIn, { zq, xs, province });
  assert.deepEqual(await projectsSeen(province, 'province'), ['PRJ-UI-1', 'PRJ-YK-2026-001', 'PRJ-YK-2026-002']);
  await province.visit('/console/records', 'province-records');
  assert.ok((await province.attrs('[data-testid="record-row"]', 'data-project')).includes('PRJ-YK-2026-001'));
});

test('a lab account sees the record but cannot open the face photo', async () => {
  const b = await Browser.open('lab');
  await setUp(b, fs.readFileSync(path.join(ART, 'lab-link.txt'), 'utf8').trim(), 'Lab-Yingkou-2026');
  await b.visit('/console/records?project=PRJ-YK-2026-001', 'lab-records');
  const ids = await b.attrs('[data-testid="record-row"]', 'data-record');
  assert.ok(ids.length >= 1, 'the sampling is listed');
  await b.visit(`/console/records/${ids[0]}`, 'lab-record');
  const media = await b.attrs('[data-testid="record-media"]', 'data-purpose');
  const open = await b.attrs('[data-testid="record-media"]', 'data-open');
  const face = media.indexOf('face');
  assert.ok(face >= 0, `a face photo is listed: ${media}`);
  assert.equal(open[face], 'false', 'but not linked');
  // Asked for directly, it is refused.
  const sha = await b.exec(`return document.querySelectorAll('[data-testid="record-media"]')[${face}].querySelector('[title]').getAttribute('title');`);
  await b.visit(`/console/media/${sha}`, 'lab-face-refused');
  assert.match(await b.body(), /人脸|face/);
  const status = await b.exec(`return fetch('/console/media/${sha}').then(r => r.status);`);
  assert.equal(status, 403);
});

/** One more sampling through the real engine, synced (a new record in the log). */
function sampleAgain(serial) {
  const sampler = path.join(ART, 'devices', 'sampler');
  const tag = tagPhoto(serial, path.join(sampler, `tag-${serial}.jpg`));
  const face = path.join(FACES, 'obama.jpg');
  fieldSim(sampler, 'sample', '--tag', tag, '--unit', 'UP-1', '--face-ref', face, '--face', face, '--confirm');
  fieldSim(sampler, 'sync');
}

test('a sampling nobody witnessed is raised on the server\'s clock, with its warning, evidence and live feed (R8, R17, R18)', async () => {
  const { zq, xs } = signedIn;
  const row = '[data-testid="oversight-row"][data-project="PRJ-YK-2026-001"]';
  await until('the missed witnessing counted', async () => {
    await zq.go('/console/oversight');
    const missed = await zq.attrs(row, 'data-missed');
    return missed.length === 1 && Number(missed[0]) >= 1;
  }, 30_000);
  await zq.snap('oversight');
  const codes = await zq.attrs(`${row} [data-testid="oversight-warning"]`, 'data-code');
  assert.ok(codes.includes('witness_late_or_missed'), `the rate warning: ${codes}`);
  // One click to the warning's evidence, one more to the record.
  await zq.visit('/console/oversight/PRJ-YK-2026-001', 'oversight-project');
  const evidence = await zq.$('[data-testid="warning"][data-code="witness_late_or_missed"] [data-testid="evidence-row"] a');
  assert.ok(evidence, 'the sampling behind the warning is listed');
  await zq.cmd('POST', `/element/${evidence}/click`, {});
  await until('the sampling\'s page', async () => (await zq.url()).startsWith('/console/records/'));
  await zq.snap('oversight-evidence-record');
  // Another county does not see it.
  await xs.visit('/console/oversight', 'oversight-xishi');
  assert.ok(!(await xs.attrs('[data-testid="oversight-row"]', 'data-project')).includes('PRJ-YK-2026-001'));
  // Live: the page is open when the next unwitnessed sampling is found missed.
  await zq.visit('/console/oversight', 'oversight-live-before');
  sampleAgain(1202);
  await until('the live feed shows it', async () =>
    (await zq.attrs('[data-testid="live-item"]', 'data-code')).includes('witness_missing'), 30_000);
  await zq.snap('oversight-live');
});

test('a spot-check draw is announced, drawn by the log and recomputed from its public page (R20)', async () => {
  const { province } = signedIn;
  await province.visit('/console/draws', 'draws');
  await province.fill('form[data-testid="draw-form"] input[name="title"]', '2026 年第四季度见证取样专项抽查');
  await province.fill('form[data-testid="draw-form"] input[name="target_count"]', '2');
  await province.fill('form[data-testid="draw-form"] input[name="inspectors_per_target"]', '1');
  await province.submit('draw-form');
  await until('the public page of the draw', async () => (await province.url()).startsWith('/console/public/draws/'));
  const page = await province.url();
  await province.snap('draw-announced');
  // The next record in the log draws it.
  sampleAgain(1203);
  const anyone = await Browser.open('public');
  await until('drawn', async () => {
    await anyone.go(page);
    return (await anyone.attrs('[data-testid="draw-pick"]', 'data-target')).length === 2;
  }, 30_000);
  await anyone.snap('draw-public');
  // Recomputed by the independent script from the published JSON.
  const published = await (await fetch(`${server.url}${page}/json`)).text();
  const file = path.join(ART, 'draw.json');
  fs.writeFileSync(file, published);
  const recomputed = JSON.parse(execFileSync('python3', [path.join(ROOT, 'tests', 'draw', 'recompute.py'), file], { encoding: 'utf8' }));
  assert.deepEqual(recomputed, JSON.parse(published).result);
  const shown = await anyone.attrs('[data-testid="draw-pick"]', 'data-target');
  assert.deepEqual(shown, recomputed.picks.map((p) => p.target));
});

test('a report QR is checked on a phone: valid, the issued PDF and the lab document compared, replaced, revoked, tampered (R12, R13)', async () => {
  // A whole morning to a sealed report, through real engines on phones of
  // their own: the rehearsal prints the report and its QR.
  const rehearsal = path.join(ART, 'devices', 'rehearsal');
  const out = fieldSim(rehearsal, 'rehearse', '--offers', path.join(server.data, 'demo-rehearsal'), '--tag', '1501');
  const m = out.match(/report ([0-9a-f]{64}) of ([0-9 ]+) sealed; QR: (\S+)/);
  assert.ok(m, out);
  const sealed = { report: m[1], tag: m[2].trim(), qr: m[3] };
  const phone = await Browser.open('phone', '390,844');
  const checkPath = sealed.qr.replace(server.url, '');
  await phone.visit(checkPath, 'report-valid');
  assert.deepEqual(await phone.attrs('[data-testid="report-status"]', 'data-status'), ['valid']);
  assert.match(await phone.body(), /有效/);
  // The system's own strengths from the raw curves are shown beside the
  // report: each of the group's three cubes, and the group value (GB/T 50081).
  assert.equal((await phone.attrs('tr[data-figure="f_cu"]', 'data-value')).length, 3);
  assert.equal((await phone.attrs('tr[data-figure="f_cu_group"]', 'data-value')).length, 1);
  // The file the reader holds, compared on the phone. The PDF the system
  // issued (QR on every page) is offered for download and matches ...
  const pdfSha = (await phone.attrs('[data-testid="file-input"]', 'data-pdf-sha'))[0];
  const pdfUrl = (await phone.attrs('[data-testid="pdf-download"]', 'href'))[0];
  const issued = Buffer.from(await (await fetch(new URL(pdfUrl, server.url))).arrayBuffer());
  assert.ok(issued.subarray(0, 5).toString() === '%PDF-', 'a PDF');
  assert.equal(createHash('sha256').update(issued).digest('hex'), pdfSha);
  const issuedFile = path.join(ART, 'issued-report.pdf');
  fs.writeFileSync(issuedFile, issued);
  const input = await phone.$('[data-testid="file-input"]');
  const compare = async (file, expected, what) => {
    await phone.cmd('POST', `/element/${input}/clear`, {});
    await phone.cmd('POST', `/element/${input}/value`, { text: file });
    try {
      await until(what, async () => (await phone.attrs('[data-testid="file-result"]', 'data-match'))[0] === expected);
    } catch (e) {
      const got = await phone.exec('return document.querySelector(\'[data-testid="file-result"]\').outerHTML;');
      throw new Error(`${e.message}: ${got}`);
    }
  };
  await compare(issuedFile, 'pdf', 'the issued PDF matched');
  assert.match(await phone.textOf('[data-testid="file-result"]'), /本系统签发的 PDF/);
  await phone.snap('report-file-issued-pdf');
  // ... a copy with one byte changed does not ...
  const changed = Buffer.from(issued);
  changed[Math.floor(changed.length / 2)] ^= 0x01;
  const changedFile = path.join(ART, 'issued-report-one-byte-changed.pdf');
  fs.writeFileSync(changedFile, changed);
  await compare(changedFile, 'none', 'the changed PDF refused');
  assert.match(await phone.textOf('[data-testid="file-result"]'), /不一致/);
  await phone.snap('report-file-different');
  // ... and the document the lab signed matches as that.
  const sha = (await phone.attrs('[data-testid="file-input"]', 'data-doc-sha'))[0];
  const doc = path.join(rehearsal, 'lab', 'engine', 'media', sha.slice(0, 2), sha);
  assert.ok(fs.existsSync(doc), doc);
  await compare(doc, 'document', 'the lab document matched');
  await phone.snap('report-file-same');
  const altered = path.join(ART, 'altered.pdf');
  fs.writeFileSync(altered, Buffer.concat([fs.readFileSync(doc), Buffer.from('\n% edited')]));
  await compare(altered, 'none', 'the altered document refused');
  // The plain SHA-256 used where the page is not a secure context agrees with WebCrypto.
  const same = await phone.exec(`return crypto.subtle.digest('SHA-256', new TextEncoder().encode('见证取样 abc')).then((d) =>
    Array.from(new Uint8Array(d)).map((b) => b.toString(16).padStart(2, '0')).join('') === window.jzqySha256Plain(new TextEncoder().encode('见证取样 abc').buffer));`);
  assert.equal(same, true);

  // Replaced: the lab issues a corrected report; the old QR keeps answering "replaced by", with a link.
  const lab = path.join(rehearsal, 'lab');
  const corrected = fieldSim(lab, 'report', '--tag', sealed.tag, '--no', 'REH-BG-1501-R1', '--conclusion', '所检项目符合 C30 要求（更正）',
    '--document', altered, '--amends', sealed.report).trim();
  fieldSim(lab, 'sync');
  const newQr = fieldSim(lab, 'seal', corrected).trim();
  await phone.visit(checkPath, 'report-replaced');
  assert.deepEqual(await phone.attrs('[data-testid="report-status"]', 'data-status'), ['replaced']);
  assert.deepEqual(await phone.attrs('[data-testid="replaced-by"]', 'href'), [newQr]);
  await phone.press('[data-testid="replaced-by"]');
  await until('the replacement open', async () => (await phone.attrs('[data-testid="report-status"]', 'data-status'))[0] === 'valid');

  // Revoked: the lab withdraws the correction, with its reason, shown forever.
  fieldSim(lab, 'revoke', corrected, '--reason', '试验机标定过期，数据作废');
  fieldSim(lab, 'sync');
  await phone.visit(newQr.replace(server.url, ''), 'report-revoked');
  assert.deepEqual(await phone.attrs('[data-testid="report-status"]', 'data-status'), ['revoked']);
  assert.match(await phone.textOf('[data-testid="status-detail"]'), /试验机标定过期/);

  // Tampered: one character of the QR changed is refused, said plainly.
  const seal = checkPath.split('/q/')[1];
  const tampered = seal.slice(0, 100) + (seal[100] === 'A' ? 'B' : 'A') + seal.slice(101);
  await phone.visit(`/q/${tampered}`, 'report-tampered');
  assert.deepEqual(await phone.attrs('[data-testid="report-status"]', 'data-status'), ['invalid']);
  assert.match(await phone.textOf('[data-testid="failure"]'), /伪造|不是本系统/);
});

test('the lab desk signs in the browser itself: enrolled with an offer, tests approved, a report issued, corrected and revoked (R12, R13)', async () => {
  // Three cubes tested on the rehearsal's lab station, waiting for review.
  const rehearsal = path.join(ART, 'devices', 'rehearsal');
  const out = fieldSim(rehearsal, 'rehearse', '--offers', path.join(server.data, 'demo-rehearsal'), '--tag', '1601', '--until-tested');
  fs.writeFileSync(path.join(ART, 'desk-rehearsal.txt'), out);
  const tests = [...out.matchAll(/cube \d: test data ([0-9a-f]{64})/g)].map((m) => m[1]);
  assert.equal(tests.length, 3, out);
  const printed = out.match(/done: tested ([0-9 ]+), awaiting review/)[1].trim();
  // This specimen's line on the desk (the earlier rehearsal's is there too).
  const mine = `[data-testid="desk-line"][data-tag="${printed}"]`;
  const b = await Browser.open('reviewer');
  await setUp(b, fs.readFileSync(path.join(ART, 'reviewer-link.txt'), 'utf8').trim(), 'Reviewer-Yingkou-2026');
  const state = async () => (await b.attrs('[data-testid="signer"]', 'data-state'))[0];
  const result = async () => b.textOf('[data-testid="signer-result"]');
  // Not a signing device yet: nothing to sign with, until enrolled with a one-time offer.
  await b.visit('/console/lab', 'desk-before-enrolment');
  await until('the signer panel', async () => (await state()) === 'none');
  assert.equal(await b.exec('return document.querySelector(\'[data-testid="report-form"]\') === null || document.querySelector(\'[data-testid="report-form"]\').hidden;'), true);
  await b.fill('form[data-testid="signer-enroll"] input[name="offer"]', server.offers['P-LIUYANG']);
  await b.press('form[data-testid="signer-enroll"] button[type="submit"]');
  try {
    await until('enrolled', async () => (await state()) === 'enrolled', 30_000);
  } catch (e) {
    throw new Error(`${e.message}: ${await result()}`);
  }
  await b.snap('desk-enrolled');
  // Each cube approved on its curve's page, signed by this browser.
  for (const id of tests) {
    await b.visit(`/console/lab/tests/${id}`, 'desk-test');
    await until('the review form', async () => (await state()) === 'enrolled'
      && (await b.exec('return !document.querySelector(\'[data-testid="review-form"]\').hidden;')));
    // Returning without a reason is refused before anything is signed.
    await b.press('[data-testid="review-return"]');
    await until('a return needs a reason', async () => /原因|why/.test(await result()));
    await b.press('[data-testid="review-approve"]');
    await until('approved', async () => (await b.attrs('[data-testid="lab-test"]', 'data-stage'))[0] === '待出具报告', 30_000);
  }
  await b.snap('desk-test-approved');
  // The report, with the lab's document, issued from the desk.
  const doc = path.join(ART, 'desk-report.pdf');
  fs.writeFileSync(doc, '%PDF-1.4\n% the lab desk report of tag 1601\n%%EOF\n');
  await b.visit('/console/lab', 'desk-awaiting-report');
  await until('the report form', async () => (await b.exec('const f = document.querySelector(arguments[0] + \' [data-testid="report-form"]\'); return !!f && !f.hidden;', mine)));
  await b.fill(`${mine} form[data-testid="report-form"] input[name="report_no"]`, 'DESK-BG-1601');
  await b.fill(`${mine} form[data-testid="report-form"] input[name="conclusion"]`, '所检项目符合 C30 要求');
  const file = await b.$(`${mine} form[data-testid="report-form"] input[name="document"]`);
  await b.cmd('POST', `/element/${file}/value`, { text: doc });
  await b.press(`${mine} form[data-testid="report-form"] button[type="submit"]`);
  await until('reported', async () => (await b.attrs(mine, 'data-stage'))[0] === 'reported', 30_000);
  // Its QR from the system, asked by this device; the check page says valid.
  await until('the seal form', async () => (await b.exec('const f = document.querySelector(arguments[0] + \' [data-testid="seal-form"]\'); return !!f && !f.hidden;', mine)));
  await b.press(`${mine} form[data-testid="seal-form"] button[type="submit"]`);
  try {
    await until('the report QR', async () => (await b.$$('[data-testid="seal-link"]')).length === 1, 30_000);
  } catch (e) {
    await b.snap('desk-seal-failed');
    throw new Error(`${e.message}: ${await result()}`);
  }
  const qr = (await b.attrs('[data-testid="seal-link"]', 'href'))[0];
  await b.snap('desk-reported');
  const phone = await Browser.open('desk-phone', '390,844');
  await phone.visit(qr.replace(server.url, ''), 'desk-report-valid');
  assert.deepEqual(await phone.attrs('[data-testid="report-status"]', 'data-status'), ['valid']);
  // Corrected: a new report amending it; the first one's QR now says replaced.
  await b.visit('/console/lab', 'desk-correct');
  await until('the correct form', async () => (await b.exec('const f = document.querySelector(arguments[0] + \' [data-testid="correct-form"]\'); return !!f && !f.hidden;', mine)));
  await b.fill(`${mine} form[data-testid="correct-form"] input[name="report_no"]`, 'DESK-BG-1601-R1');
  await b.fill(`${mine} form[data-testid="correct-form"] input[name="conclusion"]`, '所检项目符合 C30 要求（更正）');
  const file2 = await b.$(`${mine} form[data-testid="correct-form"] input[name="document"]`);
  fs.writeFileSync(doc, '%PDF-1.4\n% the corrected report of tag 1601\n%%EOF\n');
  await b.cmd('POST', `/element/${file2}/value`, { text: doc });
  await b.press(`${mine} form[data-testid="correct-form"] button[type="submit"]`);
  await until('two reports', async () => (await b.$$(`${mine} [data-testid="desk-report"]`)).length === 2, 30_000);
  await phone.visit(qr.replace(server.url, ''), 'desk-report-replaced');
  assert.deepEqual(await phone.attrs('[data-testid="report-status"]', 'data-status'), ['replaced']);
  // Revoked: the correction withdrawn with a reason, shown on its check page.
  const revokeForms = await b.attrs(`${mine} form[data-testid="revoke-form"]`, 'data-report');
  assert.equal(revokeForms.length, 2, 'both reports may still be revoked');
  // The correction is the later one; only its form stays on the page.
  const correction = revokeForms[revokeForms.length - 1];
  const revoke = `form[data-testid="revoke-form"][data-report="${correction}"]`;
  await b.fill(`${revoke} input[name="reason"]`, '试验机标定过期，数据作废');
  await b.press(`${revoke} button[type="submit"]`);
  await until('revoked', async () => (await b.attrs(`${mine} [data-testid="desk-report"]`, 'data-revoked')).includes('true'), 30_000);
  await b.snap('desk-revoked');
  assert.deepEqual(await b.attrs(`${mine} [data-testid="desk-report"]`, 'data-revoked'), ['false', 'true']);
});

test('before work starts: the owner, the contractor and the supervisor each sign in their own browser; the page says what is still missing (R2, R4, R15, R19)', async () => {
  const page = '/console/projects/PRJ-YK-2026-001/plans';
  const unit = '[data-testid="unit-plans"][data-unit="UP-1"]';
  const state = async (b) => (await b.attrs('[data-testid="signer"]', 'data-state'))[0];
  const result = async (b) => b.textOf('[data-testid="signer-result"]');
  const gaps = async (b) => b.attrs('[data-testid="gaps"] li', 'data-gap');
  // Each person's browser: set up, then enrolled as their signing device.
  async function signer(login, person, password) {
    const b = await Browser.open(login);
    await setUp(b, link(login), password);
    await b.visit(page, `plans-${login}`);
    await until(`${login}'s signer panel`, async () => (await state(b)) === 'none');
    await b.fill('form[data-testid="signer-enroll"] input[name="offer"]', server.offers[person]);
    await b.press('form[data-testid="signer-enroll"] button[type="submit"]');
    try {
      await until(`${login} enrolled`, async () => (await state(b)) === 'enrolled', 30_000);
    } catch (e) {
      throw new Error(`${e.message}: ${await result(b)}`);
    }
    return b;
  }

  // The owner's representative registers the tag contract: a price above
  // the filed guide (1.50 yuan) is refused before anything is signed.
  const owner = await signer('chenjing', 'P-CHENJING', 'Owner-Yingkou-2026');
  assert.ok((await gaps(owner)).includes('tag_supply_contract'), 'no tag contract yet');
  await owner.press('details:has([data-testid="tag-contract-form"]) summary');
  await until('the tag contract form', async () => owner.exec('return !document.querySelector(\'[data-testid="tag-contract-form"]\').hidden;'));
  await owner.fill('form[data-testid="tag-contract-form"] input[name="number"]', 'HX-BS-2026-01');
  await owner.fill('form[data-testid="tag-contract-form"] input[name="quantity"]', '500');
  await owner.fill('form[data-testid="tag-contract-form"] input[name="price"]', '1.80');
  await owner.press('form[data-testid="tag-contract-form"] button[type="submit"]');
  await until('the price refused', async () => /高于备案指导价/.test(await result(owner)));
  await owner.snap('plans-price-refused');
  await owner.fill('form[data-testid="tag-contract-form"] input[name="price"]', '1.50');
  await owner.press('form[data-testid="tag-contract-form"] button[type="submit"]');
  await until('the contract registered', async () => (await owner.body()).includes('HX-BS-2026-01'), 30_000);
  assert.ok(!(await gaps(owner)).includes('tag_supply_contract'), 'the tag contract is no longer missing');

  // The contractor's engineer drafts the sampling plan of 1# building.
  const con = await signer('huanglei', 'P-HUANGLEI', 'Builder-Yingkou-2026');
  await con.press(`${unit} details:has([data-testid="sampling-plan-form"]) summary`);
  await until('the plan form', async () => con.exec('return !document.querySelector(arguments[0]).hidden;', `${unit} form[data-testid="sampling-plan-form"]`));
  await con.fill(`${unit} form[data-testid="sampling-plan-form"] input[name="basis"]`, '结施-01~12');
  await con.press(`${unit} form[data-testid="sampling-plan-form"] button[type="submit"]`);
  await until('the plan waiting for approval', async () => (await con.attrs(`${unit} tr[data-state]`, 'data-state')).includes('pending'), 30_000);
  assert.match(await con.textOf('[data-testid="gaps"]'), /UP-1 的取样计划未经监理批准/);

  // The supervising engineer approves it; it is in force and counted.
  const sup = await signer('xufang', 'P-XUFANG', 'Supervisor-Yingkou-2026');
  await until('the approval form', async () => sup.exec('const f = document.querySelector(arguments[0]); return !!f && !f.hidden;', `${unit} form[data-testid="approval-form"]`));
  await sup.press(`${unit} form[data-testid="approval-form"] [data-testid="return"]`);
  await until('a return needs a reason', async () => /原因|reason/.test(await result(sup)));
  await sup.press(`${unit} form[data-testid="approval-form"] [data-testid="approve"]`);
  await until('approved', async () => (await sup.attrs(`${unit} tr[data-state]`, 'data-state')).includes('approved'), 30_000);
  assert.ok(!(await sup.textOf('[data-testid="gaps"]')).includes('UP-1 的取样计划'), 'UP-1 has its approved plan (UP-2 has none yet)');
  assert.deepEqual(await sup.attrs('[data-testid="progress"] tr[data-item]', 'data-item'), ['I-1']);
  await sup.snap('plans-approved');
});
