// The Chinese the field app itself can put on screen, read from its sources
// rather than listed by hand, so a new string cannot miss its glyphs in the
// bundled UI font (app/src/fonts/; issue 19: the screens of R6-R11 readable
// on a machine with no CJK font). Used by scripts/ui-font (which subsets the
// font to these characters), by app/test/font.test.ts (which fails when the
// committed font lacks one) and by the WebDriver e2e (tests/ui/glyphs.mjs).
//
// What counts as the app's own text: every string literal, template part and
// JSX text of app/src (the screens and catalogues; not dev/, the stand-in
// backend of `npm run dev`, whose data plays the server's part), and every
// string literal of the Rust code whose zh-CN messages reach the screens:
// custody-core's findings, the engine's and the shell's errors, the capture
// pipeline's, and the sync server's answers the app relays. Comments do not
// count. The demo project's data (sync-server/src/demo.rs, and the sampling
// plan field-sim drafts for it) is user text — people's, organisations' and
// projects' names, a plan's parts and tests as an engineer typed them — which
// the system's CJK font covers, not the bundle.

import fs from 'node:fs';
import path from 'node:path';

export const TS_SOURCES = ['app/src'];
export const TS_EXCLUDED = ['app/src/dev'];
export const RUST_SOURCES = ['shared/src', 'src-tauri/src', 'src-tauri/engine/src', 'src-tauri/capture/src', 'sync-server/src'];
export const RUST_EXCLUDED = ['sync-server/src/demo.rs'];
/** Where user text of the e2e comes from: the demo project the test servers start with, and its plan. */
export const DEMO_DATA = ['sync-server/src/demo.rs', 'src-tauri/field-sim/src/plan_cmd.rs'];

/**
 * Chinese, for this purpose: the code points a Latin-only system has no
 * glyph for and a CJK font must supply — CJK radicals, symbols and
 * punctuation, kana and bopomofo, enclosed and compatibility forms (㎡),
 * the unified ideographs and their extensions, compatibility ideographs,
 * vertical and fullwidth forms (，：（）). U+3000, the ideographic space,
 * draws nothing in any font and is left out.
 */
export const CJK_RANGES = [
  [0x2e80, 0x2fdf],
  [0x3001, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xffef],
  [0x20000, 0x3ffff],
];

export function isCjk(cp) {
  return CJK_RANGES.some(([a, b]) => cp >= a && cp <= b);
}

/** The distinct CJK code points of `texts`, ascending. */
export function cjkCodePoints(texts) {
  const set = new Set();
  for (const t of texts) for (const ch of t) if (isCjk(ch.codePointAt(0))) set.add(ch.codePointAt(0));
  return [...set].sort((a, b) => a - b);
}

/** Every string literal, template part and JSX text of one TypeScript/TSX file. */
export async function tsLiterals(fileName, text) {
  const ts = (await import('typescript')).default;
  const kind = fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, kind);
  const out = [];
  const visit = (n) => {
    if (
      ts.isStringLiteral(n) ||
      ts.isNoSubstitutionTemplateLiteral(n) ||
      ts.isTemplateHead(n) ||
      ts.isTemplateMiddle(n) ||
      ts.isTemplateTail(n)
    ) {
      out.push(n.text);
    } else if (ts.isJsxText(n)) {
      out.push(n.getText());
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const IDENT = /[\p{L}\p{N}_]/u;

/**
 * Every string and char literal of one Rust file (plain, byte, raw, C),
 * without comments (line, doc and nested block comments) and without
 * mistaking a lifetime (`'a`) for a char. Escapes are kept as written: a
 * `\u{..}` escape is not Chinese text in the source and nobody writes it so.
 */
export function rustLiterals(text) {
  const s = Array.from(text); // code points, so a char literal of a supplementary ideograph is one unit
  const out = [];
  let i = 0;
  const at = (k) => s[k] ?? '';
  while (i < s.length) {
    const c = s[i];
    if (c === '/' && at(i + 1) === '/') {
      while (i < s.length && s[i] !== '\n') i++;
    } else if (c === '/' && at(i + 1) === '*') {
      let depth = 1;
      i += 2;
      while (i < s.length && depth > 0) {
        if (s[i] === '/' && at(i + 1) === '*') { depth++; i += 2; }
        else if (s[i] === '*' && at(i + 1) === '/') { depth--; i += 2; }
        else i++;
      }
    } else if ((c === 'r' || ((c === 'b' || c === 'c') && at(i + 1) === 'r')) && !IDENT.test(at(i - 1))) {
      // A raw string r"…", r#"…"#, br"…", cr"…"; otherwise an identifier starting with r/b/c.
      let j = c === 'r' ? i + 1 : i + 2;
      let hashes = 0;
      while (at(j) === '#') { hashes++; j++; }
      if (at(j) !== '"') { i++; continue; }
      const close = '"' + '#'.repeat(hashes);
      let k = j + 1;
      while (k < s.length && s.slice(k, k + close.length).join('') !== close) k++;
      out.push(s.slice(j + 1, k).join(''));
      i = k + close.length;
    } else if (c === '"') {
      let k = i + 1;
      while (k < s.length && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
      out.push(s.slice(i + 1, k).join(''));
      i = k + 1;
    } else if (c === "'") {
      if (at(i + 1) === '\\') {
        let k = i + 3; // past the backslash and the escaped character, which may be a quote
        while (k < s.length && s[k] !== "'") k++;
        out.push(s.slice(i + 1, k).join(''));
        i = k + 1;
      } else if (at(i + 2) === "'") {
        out.push(at(i + 1));
        i += 3;
      } else {
        i++; // a lifetime or label
      }
    } else if (IDENT.test(c)) {
      // Skip the whole identifier so `br`/`r` inside one is not read as a raw string's start.
      while (i < s.length && IDENT.test(s[i])) i++;
    } else {
      i++;
    }
  }
  return out;
}

function filesUnder(dir, exts, excluded) {
  if (excluded.some((e) => dir === e || dir.startsWith(e + path.sep))) return [];
  const abs = dir;
  if (!fs.existsSync(abs)) throw new Error(`source folder missing: ${abs}`);
  if (fs.statSync(abs).isFile()) return exts.some((e) => abs.endsWith(e)) ? [abs] : [];
  return fs
    .readdirSync(abs)
    .sort()
    .flatMap((f) => filesUnder(path.join(dir, f), exts, excluded));
}

/**
 * The app's own text, from the repository at `root`: `{ texts, files }`,
 * every literal found and the files read (relative paths).
 */
export async function appText(root) {
  const rel = (p) => path.relative(root, p).split(path.sep).join('/');
  const abs = (list) => list.map((p) => path.join(root, p));
  const texts = [];
  const files = [];
  for (const f of TS_SOURCES.flatMap((d) => filesUnder(path.join(root, d), ['.ts', '.tsx'], abs(TS_EXCLUDED)))) {
    texts.push(...(await tsLiterals(f, fs.readFileSync(f, 'utf8'))));
    files.push(rel(f));
  }
  for (const f of RUST_SOURCES.flatMap((d) => filesUnder(path.join(root, d), ['.rs'], abs(RUST_EXCLUDED)))) {
    texts.push(...rustLiterals(fs.readFileSync(f, 'utf8')));
    files.push(rel(f));
  }
  return { texts, files };
}

/** The CJK characters of the app's own text, ascending: what the bundled font must cover. */
export async function appCjk(root) {
  return cjkCodePoints((await appText(root)).texts);
}

/** The CJK characters of the demo project's data (user text in the e2e). */
export function demoCjk(root) {
  return cjkCodePoints(DEMO_DATA.flatMap((f) => rustLiterals(fs.readFileSync(path.join(root, f), 'utf8'))));
}

// `node app/scripts/ui-text.mjs [ROOT]` prints the characters, one line, for pyftsubset --text-file.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '../..'));
  const cps = await appCjk(root);
  process.stdout.write(String.fromCodePoint(...cps) + '\n');
}
