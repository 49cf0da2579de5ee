// Chinese that a person can read (issue 19): the end-to-end run fails when
// Chinese on a screen is drawn as missing glyphs (empty boxes, "tofu").
//
// The app runs with every CJK font of the machine hidden from it
// (`fontconfigWithoutCjk`: a fontconfig file listing only the system's fonts
// that have no CJK character at all, as on a fresh Debian), so the Chinese of
// the screens can come from nowhere but the font the app bundles
// (app/src/fonts/ui-han.woff2). Installing no CJK font for the test would prove
// the same only on a clean machine; this machine and CI have fonts-noto-cjk
// (the console's tests and the desktop package need it), and fontconfig is
// where WebKitGTK looks, so hiding them from fontconfig is what makes the run
// prove the bundle. One test then runs the app with the system's fonts
// (`systemCjk`), as the desktop package installs it with fonts-noto-cjk, and
// there every character, names included, must be drawn.
//
// How a missing glyph is told apart (`PAGE_CHECK`): WebKit draws a character
// that no font of the element's font list (nor fontconfig's fallback) has as
// a .notdef glyph — a box, or nothing when that font's .notdef is empty — the
// same for any such character in the same font list. For each CJK character
// visible on the screen, in the font of the element showing it, the check
// draws it on a canvas and compares it with a code point no font has
// (U+10FFFD) drawn the same way: the same pixels, or no ink at all, is a
// missing glyph. document.fonts.check() cannot tell: it answers whether the
// listed fonts are loaded, not whether they have the character, and is true
// for boxes.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fontCodePoints } from '../../app/scripts/font-cmap.mjs';
import { CJK_RANGES, demoCjk, isCjk } from '../../app/scripts/ui-text.mjs';
import { until } from './webdriver.mjs';

export const BUNDLED_FONT = 'app/src/fonts/ui-han.woff2';
const NO_FONT_HAS = 0x10fffd; // a private-use code point of plane 16
const cp = (ch) => ch.codePointAt(0);

function overlapsCjk(charset) {
  // fontconfig's charset: "20-7e a0-17f 3001 …", hex code points and ranges.
  return charset.split(/\s+/).filter(Boolean).some((r) => {
    const [a, b = a] = r.split('-').map((h) => parseInt(h, 16));
    return CJK_RANGES.some(([lo, hi]) => a <= hi && b >= lo);
  });
}

function fcList(env) {
  const out = execFileSync('fc-list', ['--format', '%{file}\t%{charset}\n'], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  return out.split('\n').filter(Boolean).map((l) => {
    const [file, charset = ''] = l.split('\t');
    return { file, cjk: overlapsCjk(charset) };
  });
}

/**
 * A fontconfig configuration in `dir` that shows only the system's fonts
 * without a single CJK character; returns the environment that selects it
 * and what it hid. Checked through fc-list before use: a configuration
 * that still showed a CJK font would make the run prove nothing.
 */
export function fontconfigWithoutCjk(dir) {
  const systemEnv = { ...process.env };
  delete systemEnv.FONTCONFIG_FILE;
  const faces = fcList(systemEnv);
  const cjkFiles = new Set(faces.filter((f) => f.cjk).map((f) => f.file));
  const kept = [...new Set(faces.map((f) => f.file))].filter((f) => !cjkFiles.has(f)).sort();
  if (kept.length === 0) throw new Error('no font without CJK on this machine (fonts-dejavu-core is missing?)');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'fonts'), { recursive: true });
  kept.forEach((f, i) => fs.symlinkSync(f, path.join(dir, 'fonts', `${i}-${path.basename(f)}`)));
  // The system's rules (hinting, generic families) but none that adds font folders or includes more.
  const confd = '/etc/fonts/conf.d';
  const rules = fs.existsSync(confd)
    ? fs.readdirSync(confd).filter((f) => f.endsWith('.conf')).sort().map((f) => path.join(confd, f))
        .filter((f) => !/<dir|<include/.test(fs.readFileSync(f, 'utf8')))
    : [];
  const conf = path.join(dir, 'fonts.conf');
  fs.writeFileSync(conf, [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
    '<fontconfig>',
    `  <dir>${path.join(dir, 'fonts')}</dir>`,
    `  <cachedir>${path.join(dir, 'cache')}</cachedir>`,
    ...rules.map((f) => `  <include ignore_missing="yes">${f}</include>`),
    '</fontconfig>',
    '',
  ].join('\n'));
  const env = { FONTCONFIG_FILE: conf };
  const seen = fcList({ ...systemEnv, ...env });
  const leaked = seen.filter((f) => f.cjk || !f.file.startsWith(path.join(dir, 'fonts')));
  if (seen.length === 0 || leaked.length) {
    throw new Error(`the fontconfig without CJK still shows ${leaked.map((f) => f.file).join(', ') || 'no font at all'}`);
  }
  return { env, hidden: [...cjkFiles].sort(), kept: kept.length };
}

// Runs in the page (WebDriver execute/sync). Arguments: the CJK ranges, the
// code point no font has. Returns every distinct (character, font) on screen
// and those drawn as a missing glyph.
const PAGE_CHECK = `
const [ranges, noFontHas] = arguments;
const isCjk = (cp) => ranges.some(([a, b]) => cp >= a && cp <= b);
const shown = (el) => {
  if (!el || !el.getClientRects().length) return false;
  const st = getComputedStyle(el);
  return st.visibility !== 'hidden' && st.display !== 'none';
};
const seen = new Map();
const note = (text, el) => {
  const st = getComputedStyle(el);
  // The element's own font list, weight and style at a size where glyphs are unmistakable.
  const font = st.fontStyle + ' ' + st.fontWeight + ' 40px ' + st.fontFamily;
  for (const ch of text) {
    if (!isCjk(ch.codePointAt(0))) continue;
    const key = font + '\\u0000' + ch;
    if (!seen.has(key)) seen.set(key, { ch, font, text: text.trim().slice(0, 60) });
  }
};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (!el || el.closest('script, style, option, template') || !shown(el)) continue;
  note(n.data, el);
}
for (const el of document.querySelectorAll('input, textarea, select')) {
  if (!shown(el)) continue;
  if (el.tagName === 'SELECT') note(el.selectedOptions[0]?.text ?? '', el);
  else if (el.value) { if (el.type !== 'password' && el.type !== 'hidden') note(el.value, el); }
  else note(el.placeholder ?? '', el);
}
const canvas = document.createElement('canvas');
canvas.width = 72; canvas.height = 72;
const ctx = canvas.getContext('2d', { willReadFrequently: true });
const draw = (font, text) => {
  ctx.clearRect(0, 0, 72, 72);
  ctx.font = font;
  ctx.fillStyle = '#000';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, 12, 36);
  const d = ctx.getImageData(0, 0, 72, 72).data;
  const alpha = new Uint8Array(d.length / 4);
  for (let i = 0; i < alpha.length; i++) alpha[i] = d[i * 4 + 3];
  return alpha;
};
const noInk = (a) => a.every((v) => v === 0);
const same = (a, b) => a.every((v, i) => v === b[i]);
const boxes = new Map();
const checked = [];
const missing = [];
for (const { ch, font, text } of seen.values()) {
  if (!boxes.has(font)) boxes.set(font, draw(font, String.fromCodePoint(noFontHas)));
  const glyph = draw(font, ch);
  checked.push(ch);
  if (noInk(glyph) || same(glyph, boxes.get(font))) missing.push({ ch, font, text });
}
const bundled = [...document.fonts].filter((f) => f.family.replace(/["']/g, '') === 'JZQY UI Han').map((f) => f.status);
return { checked, missing, bundled, fontsStatus: document.fonts.status };
`;

/**
 * Every font face of the page loaded: a face still loading draws nothing
 * (font-display: block), which the check would read as a missing glyph.
 */
async function fontsLoaded(s) {
  await s.exec('document.fonts.forEach((f) => { f.load().catch(() => {}); });');
  await until('fonts loaded', async () => (await s.exec('return document.fonts.status')) === 'loaded', 10_000, 100);
}

/**
 * The check of one run: `systemCjk` false when the app sees no CJK font of
 * the system (then the bundled font must draw every character it has, and
 * only user text — the demo project's names and what the test typed — may
 * be boxes, being in no font the app can see), true when it sees them (then
 * nothing may be a box).
 */
export class GlyphCheck {
  constructor(root, { systemCjk }) {
    this.root = root;
    this.systemCjk = systemCjk;
    this.bundled = fontCodePoints(fs.readFileSync(path.join(root, BUNDLED_FONT)));
    this.userText = new Set(demoCjk(root));
    this.totals = { screens: 0, characters: 0, user_text_boxes: new Set(), outside_bundle_drawn: new Set() };
  }

  /** Text the test put in through other doors than typing (names it registered). */
  noteUserText(text) {
    for (const ch of text) if (isCjk(cp(ch))) this.userText.add(cp(ch));
  }

  /** What the screen of session `s` shows, checked; throws on Chinese drawn as boxes. */
  async check(s, where) {
    await fontsLoaded(s);
    const r = await s.exec(PAGE_CHECK, CJK_RANGES, NO_FONT_HAS);
    const typed = new Set((s.typed ?? []).flatMap((t) => [...t].map(cp)));
    const userText = (ch) => this.userText.has(cp(ch)) || typed.has(cp(ch));
    const bad = r.missing.filter((m) => this.systemCjk || this.bundled.has(cp(m.ch)) || !userText(m.ch));
    this.totals.screens += 1;
    this.totals.characters += r.checked.length;
    for (const m of r.missing) if (!bad.includes(m)) this.totals.user_text_boxes.add(m.ch);
    const missing = new Set(r.missing.map((m) => m.ch));
    for (const ch of r.checked) if (!this.bundled.has(cp(ch)) && !missing.has(ch)) this.totals.outside_bundle_drawn.add(ch);
    if (bad.length) {
      const list = bad.map((m) => `${m.ch} (U+${cp(m.ch).toString(16).toUpperCase()}) in "${m.text}" [${this.bundled.has(cp(m.ch)) ? 'in the bundled font' : 'not in the bundled font'}; ${m.font}]`);
      throw new Error(`${where}: Chinese drawn as missing glyphs (${this.systemCjk ? 'system CJK fonts visible' : 'no system CJK font'}; bundled face ${JSON.stringify(r.bundled)}):\n  ${list.join('\n  ')}`);
    }
    return r;
  }

  /**
   * The check catches what it is for: a character that no font the app can
   * see has, shown on the current screen, must be reported. Run once per
   * test run, so a check that can no longer fail fails the run.
   */
  async selfTest(s) {
    const probe = [...'龘齾爨'].find((c) => !this.bundled.has(cp(c)) && !this.userText.has(cp(c)));
    if (!probe) throw new Error('no probe character outside the bundled font and the user text');
    await fontsLoaded(s);
    await s.exec("const p = document.createElement('p'); p.id = 'glyph-probe'; p.textContent = arguments[0]; document.body.appendChild(p);", probe);
    try {
      const r = await s.exec(PAGE_CHECK, CJK_RANGES, NO_FONT_HAS);
      if (!r.checked.includes(probe)) throw new Error(`the glyph check did not see the probe ${probe}`);
      const caught = r.missing.some((m) => m.ch === probe);
      if (caught === this.systemCjk) {
        throw new Error(`the glyph check ${caught ? 'reported' : 'did not report'} ${probe}, which ${this.systemCjk ? 'the system font has' : 'no font the app sees has'}`);
      }
      // And a character of the app's own text beside it is drawn.
      const drawn = r.checked.filter((ch) => this.bundled.has(cp(ch)) && !r.missing.some((m) => m.ch === ch));
      if (drawn.length === 0) throw new Error('no character of the bundled font drawn on the probe screen');
    } finally {
      await s.exec("document.getElementById('glyph-probe')?.remove();");
    }
  }

  summary() {
    const t = this.totals;
    return { screens: t.screens, characters: t.characters, user_text_boxes: [...t.user_text_boxes].join(''), outside_bundle_drawn: [...t.outside_bundle_drawn].join('') };
  }
}
