// What the UI tests stand on: a virtual display (Xvfb), real sync servers on
// their embedded defaults with the demo project (and, where a test asks, an
// approved sampling plan signed from field-sim devices), tauri-driver in front of
// WebKitWebDriver, and per-device inputs (camera frame folders, a GNSS track)
// fed through the same code paths a phone's sensors use. Everything started
// here is stopped in `stopAll`, with SIGTERM first: a SIGKILLed tauri-driver
// orphans WebKitWebDriver on its port and the next run hangs.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, driverReady, sleep, until } from './webdriver.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'target', 'debug');
export const ART = path.join(ROOT, 'target', 'e2e-ui');
export const FACES = path.join(ROOT, '.models', 'faces');

const children = [];

function log(name) {
  fs.mkdirSync(path.join(ART, 'logs'), { recursive: true });
  return fs.openSync(path.join(ART, 'logs', `${name}.log`), 'a');
}

function start(name, cmd, args, env = {}) {
  const fd = log(name);
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: true });
  p.name = name;
  children.push(p);
  return p;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A display for the app: the caller's, or a fresh Xvfb. */
export async function display() {
  if (process.env.DISPLAY && !process.env.E2E_XVFB) return process.env.DISPLAY;
  for (let n = 90 + Math.floor(Math.random() * 100); ; n++) {
    if (fs.existsSync(`/tmp/.X11-unix/X${n}`) || fs.existsSync(`/tmp/.X${n}-lock`)) continue;
    start('xvfb', 'Xvfb', [`:${n}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp']);
    await until('Xvfb socket', () => fs.existsSync(`/tmp/.X11-unix/X${n}`), 15_000);
    return `:${n}`;
  }
}

/** A sync server with the demo project; resolves to its URL and enrollment offers. */
export async function syncServer(name, env = {}) {
  const data = path.join(ART, 'servers', name);
  fs.rmSync(data, { recursive: true, force: true });
  const port = await freePort();
  start(`server-${name}`, path.join(BIN, 'sync-server'), ['--data', data, 'demo', '--faces', FACES], {
    JZQY_SERVER__BIND: `127.0.0.1:${port}`,
    RUST_LOG: 'info',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await until(`sync server ${name} ready`, async () => (await fetch(`${url}/readyz`)).ok, 30_000, 200);
  const offers = {};
  for (const f of fs.readdirSync(path.join(data, 'demo-enrollment'))) {
    offers[path.basename(f, '.txt')] = fs.readFileSync(path.join(data, 'demo-enrollment', f), 'utf8').trim();
  }
  return { name, url, data, offers, env: { JZQY_SERVER__BIND: `127.0.0.1:${port}`, ...env } };
}

/** `sync-server admin …` on a running server's store (the operator's command line). */
export function serverAdmin(server, ...args) {
  return execFileSync(path.join(BIN, 'sync-server'), ['--data', server.data, 'admin', ...args], {
    env: { ...process.env, ...server.env },
    encoding: 'utf8',
  });
}

/** A fresh one-time enrollment offer for `person` (`admin enroll`), as its QR text. */
export function enrollOffer(server, person) {
  const offer = serverAdmin(server, 'enroll', '--person', person).split('\n').find((l) => l.startsWith('JZQY-ENROLL:'));
  if (!offer) throw new Error(`no enrollment offer for ${person}`);
  return offer.trim();
}

/** The people who draw up and approve the sampling plan (R4): not in the demo, registered here. */
export const PLAN_PEOPLE = {
  contractor: { person: 'P-CHENGONG', name: '陈工', org: 'ORG-CON-ZJ', role: 'contractor_engineer' },
  supervisor: { person: 'P-ZHOUJL', name: '周监理', org: 'ORG-SUP-YJ', role: 'supervising_engineer' },
};

/**
 * R4 on `server`: the contractor's engineer drafts the demo sampling plan of
 * unit project UP-1 and the supervising engineer approves it, each from an
 * enrolled simulated device (field-sim, the same engine as the app), as signed
 * records through the device API. Returns the plan's record and the items in
 * force as the supervisor's device lists them.
 */
export function seedPlan(server) {
  const dir = path.join(ART, 'plan', server.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const letter = path.join(dir, 'letter.pdf');
  fs.writeFileSync(letter, '%PDF-1.4 letter of authorisation (test)\n');
  const sim = (who, ...args) => execFileSync(path.join(BIN, 'field-sim'), ['--data', path.join(dir, who), ...args], { encoding: 'utf8' });
  const syncAccepted = (who, n) => {
    const report = JSON.parse(sim(who, 'sync').trim().split('\n').pop());
    if (report.accepted !== n) throw new Error(`${who}: ${n} record(s) should be accepted: ${JSON.stringify(report)}`);
  };
  for (const p of Object.values(PLAN_PEOPLE)) {
    serverAdmin(server, 'person', '--id', p.person, '--name', p.name, '--org', p.org);
    serverAdmin(server, 'grant', '--id', `G-${p.person}`, '--person', p.person, '--project', 'PRJ-YK-2026-001', '--role', p.role, '--letter', letter, '--real-name', 'id_card');
    sim(p.person, 'enroll', enrollOffer(server, p.person));
  }
  const { contractor, supervisor } = PLAN_PEOPLE;
  const record = sim(contractor.person, 'plan', 'draft', '--unit', 'UP-1').split('\n')[0].trim();
  syncAccepted(contractor.person, 1);
  syncAccepted(supervisor.person, 0); // receives the draft with its feed
  sim(supervisor.person, 'plan', 'approve', record);
  syncAccepted(supervisor.person, 1);
  const items = sim(supervisor.person, 'plan', 'items').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (items.length === 0) throw new Error('the approved plan has no items in force');
  return { record, items };
}

export function tauriDriverPath() {
  const candidates = [process.env.TAURI_DRIVER, path.join(process.env.CARGO_HOME ?? path.join(process.env.HOME, '.cargo'), 'bin', 'tauri-driver')];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  return 'tauri-driver';
}

/**
 * tauri-driver on free ports, on the given display; `env` reaches
 * WebKitWebDriver and the apps it starts (the fontconfig they see).
 */
export async function driver(disp, env = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  start('tauri-driver', tauriDriverPath(), ['--port', String(port), '--native-port', String(nativePort)], {
    DISPLAY: disp,
    GDK_BACKEND: 'x11',
    // Not WEBKIT_DISABLE_COMPOSITING_MODE: with it, WebDriver screenshots hang.
    RUST_LOG: 'info',
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  await driverReady(base);
  return base;
}

export async function stopAll() {
  for (const p of children.reverse()) {
    if (p.exitCode !== null || p.signalCode !== null) continue;
    try {
      process.kill(-p.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const end = Date.now() + 5000;
  while (Date.now() < end && children.some((p) => p.exitCode === null && p.signalCode === null)) await sleep(100);
  for (const p of children) {
    if (p.exitCode === null && p.signalCode === null) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone between the check and the kill
      }
    }
  }
}

// ------------------------------------------------------------ sensor inputs

/** A photo of demo tag `serial` (the capture pipeline's scene synthesiser); returns the tag digits. */
export function tagPhoto(serial, out, glare = false) {
  const args = ['tag-photo', '--serial', String(serial), '--out', out];
  if (glare) args.push('--glare');
  return execFileSync(path.join(BIN, 'field-sim'), args, { encoding: 'utf8' }).trim();
}

/**
 * A camera folder for one device: `tag/` (what its tag scans see), `face/`
 * (who stands in front of it), `photo/` (process photos).
 */
export function cameraDir(name, { tags, face }) {
  const dir = path.join(ART, 'devices', name, 'camera');
  fs.rmSync(dir, { recursive: true, force: true });
  for (const sub of ['tag', 'face', 'photo']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  tags.forEach((serial, i) => tagPhoto(serial, path.join(dir, 'tag', `${i}-tag.jpg`)));
  tagPhoto(tags[tags.length - 1], path.join(dir, 'photo', 'specimen.jpg'), true);
  fs.copyFileSync(path.join(FACES, face), path.join(dir, 'face', face));
  return dir;
}

function nmeaChecksum(s) {
  let c = 0;
  for (const b of Buffer.from(s, 'ascii')) c ^= b;
  return `$${s}*${c.toString(16).toUpperCase().padStart(2, '0')}`;
}

function dm(value, degDigits) {
  const v = Math.abs(value);
  const d = Math.floor(v);
  const m = (v - d) * 60;
  return `${String(d).padStart(degDigits, '0')}${m.toFixed(4).padStart(7, '0')}`;
}

/**
 * A GNSS receiver's NMEA log (RMC/GGA/GSA/GST each second) standing at
 * lat/lon, stamped from now: GNSS time is time evidence (R8), so a track
 * recorded earlier would rightly be flagged as a clock mismatch. Rewritten
 * before each fix collection.
 */
export function writeTrack(file, lat, lon, seconds = 8) {
  const lines = [];
  const t0 = Date.now();
  for (let i = 0; i < seconds; i++) {
    const t = new Date(t0 + i * 1000);
    const p = (n) => String(n).padStart(2, '0');
    const tm = `${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}.00`;
    const date = `${p(t.getUTCDate())}${p(t.getUTCMonth() + 1)}${p(t.getUTCFullYear() % 100)}`;
    const la = dm(lat + i * 2e-6, 2);
    const lo = dm(lon + i * 1e-6, 3);
    lines.push(nmeaChecksum(`GNRMC,${tm},A,${la},N,${lo},E,0.3,87.0,${date},,,A,V`));
    lines.push(nmeaChecksum(`GNGGA,${tm},${la},N,${lo},E,1,14,0.9,12.3,M,8.9,M,,`));
    lines.push(nmeaChecksum('GNGSA,A,3,02,05,10,12,15,18,23,25,,,,,1.6,0.9,1.2,1'));
    lines.push(nmeaChecksum(`GNGST,${tm},2.1,1.9,1.5,87.0,1.8,1.6,3.0`));
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\r\n') + '\r\n');
}

// ------------------------------------------------------------ the app

/** One installed app (its own data and key), launched as often as a test needs. */
export class Device {
  constructor(name, { camera, at }) {
    this.name = name;
    this.dir = path.join(ART, 'devices', name);
    this.camera = camera;
    this.track = path.join(this.dir, 'track.nmea');
    this.at = at;
    writeTrack(this.track, ...at);
  }

  /** Launches the app through the driver; returns the session and how long until its first screen. */
  async launch(driverBase) {
    const t0 = Date.now();
    const s = await Session.start(driverBase, {
      browserName: 'wry',
      'tauri:options': {
        application: path.join(BIN, 'field-app'),
        args: [
          '--data-dir', path.join(this.dir, 'data'),
          '--secrets-dir', path.join(this.dir, 'secrets'),
          '--camera', `files:${this.camera}`,
          '--location', `track:${this.track}`,
        ],
      },
    });
    const first = await until('first screen', async () => (await s.has('enroll-qr-text')) || (await s.has('whoami')), 60_000, 50);
    s.firstScreenMs = Date.now() - t0;
    s.device = this;
    return s;
  }

  refreshTrack() {
    writeTrack(this.track, ...this.at);
  }
}

/** Memory of the app and its WebKit helper processes (kB: RSS and PSS), by walking /proc. */
export function appMemoryKb() {
  const procs = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const rss = Number((fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) ?? [0, 0])[1]);
      // PSS shares pages out fairly between processes, so a sum is meaningful.
      let pss = rss;
      try {
        pss = Number((fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/Pss:\s+(\d+)/) ?? [0, rss])[1]);
      } catch {
        // no smaps_rollup (old kernel): RSS overcounts shared pages, but is an upper bound
      }
      procs.push({ pid: Number(pid), ppid, exe: cmd[0], rss, pss });
    } catch {
      // exited while we looked
    }
  }
  const app = procs.filter((p) => p.exe === path.join(BIN, 'field-app'));
  const ids = new Set(app.map((p) => p.pid));
  // WebKit's web and network processes are children of the app.
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!ids.has(p.pid) && ids.has(p.ppid)) { ids.add(p.pid); grew = true; }
  }
  const all = procs.filter((p) => ids.has(p.pid));
  const sum = (ps, k) => ps.reduce((a, p) => a + p[k], 0);
  return { app_rss: sum(app, 'rss'), app_pss: sum(app, 'pss'), total_pss: sum(all, 'pss'), processes: all.length };
}

let shot = 0;
/**
 * A screenshot kept as a test artifact (after a short settle: the first read
 * can show the previous frame), and the screen's Chinese checked for missing
 * glyphs when the session has a glyph check (tests/ui/glyphs.mjs): the
 * picture is kept either way, so a failure can be looked at.
 */
export async function screenshot(s, name) {
  await sleep(700);
  shot += 1;
  const dir = path.join(ART, 'screens');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${String(shot).padStart(2, '0')}-${name}.png`);
  let unreadable = null;
  try {
    if (s.glyphs) await s.glyphs.check(s, name);
  } catch (e) {
    unreadable = e;
  }
  fs.writeFileSync(file, await s.screenshot());
  if (unreadable) throw unreadable;
  return file;
}

/** Presses 立即同步 and waits until nothing is waiting to upload. */
export async function syncUntilClean(s, timeoutMs = 60_000) {
  await until('everything uploaded', async () => {
    if (await s.find('sync-now', ':not([disabled])')) await s.click('sync-now');
    await sleep(800);
    const r = await s.attr('status-pending', 'data-records');
    const m = await s.attr('status-pending', 'data-media');
    return r === '0' && m === '0';
  }, timeoutMs, 500);
}
