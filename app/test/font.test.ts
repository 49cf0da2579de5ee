// The bundled UI font (issue 19): on a machine with no CJK font the screens'
// Chinese is drawn from app/src/fonts/ui-han.woff2, a subset made by
// scripts/ui-font from the characters the app's own text uses. These tests
// fail when a string of the app has a character the committed font lacks
// (run scripts/ui-font and commit the font), and check the reader of that
// text and of the font's character map, on which the e2e's glyph check
// (tests/ui/glyphs.mjs) also stands.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { appCjk, appText, cjkCodePoints, isCjk, rustLiterals, tsLiterals, RUST_SOURCES } from '../scripts/ui-text.mjs';
import { fontCodePoints } from '../scripts/font-cmap.mjs';

const ROOT = join(__dirname, '..', '..');
const FONT = join(ROOT, 'app', 'src', 'fonts', 'ui-han.woff2');
const hex = (cp: number) => `${String.fromCodePoint(cp)} U+${cp.toString(16).toUpperCase()}`;

// Reading every source file and decompressing the font takes seconds on a
// loaded machine (5 s, vitest's default limit, was overrun in CI): a limit
// that only stops a hang, not a figure.
const WHOLE_TREE_MS = 120_000;

describe('the bundled UI font', () => {
  it('has every Chinese character of the app’s own text', async () => {
    const font = fontCodePoints(readFileSync(FONT));
    const needed = await appCjk(ROOT);
    // Hundreds of characters: a reader that found nothing would pass vacuously.
    expect(needed.length).toBeGreaterThan(500);
    const missing = needed.filter((cp) => !font.has(cp)).map(hex);
    expect(missing, 'characters of the app’s text missing from app/src/fonts/ui-han.woff2: run scripts/ui-font and commit the font').toEqual([]);
  }, WHOLE_TREE_MS);

  it('reads text from the screens, the catalogues and the Rust messages the screens show', async () => {
    const { files } = await appText(ROOT);
    expect(files).toContain('app/src/i18n/zh-CN.ts');
    expect(files).toContain('app/src/screens/lab.tsx');
    expect(files.some((f) => f.startsWith('shared/src/'))).toBe(true);
    expect(files.some((f) => f.startsWith('src-tauri/engine/src/'))).toBe(true);
    for (const dir of RUST_SOURCES) expect(files.some((f) => f.startsWith(`${dir}/`)), dir).toBe(true);
    // The demo project's people and places are user text, and the dev stand-in is not shipped.
    expect(files).not.toContain('sync-server/src/demo.rs');
    expect(files.some((f) => f.startsWith('app/src/dev/'))).toBe(false);
  }, WHOLE_TREE_MS);

  it('stays a subset: small, and only Chinese', () => {
    const font = fontCodePoints(readFileSync(FONT));
    // Latin comes from the system's fonts; a stray full font (10 MB) would make every build and install heavier.
    expect([...font].filter((cp) => !isCjk(cp) && cp !== 0x3000).map(hex)).toEqual([]);
    expect(statSync(FONT).size).toBeLessThan(256 * 1024);
  });

  it('carries its licence beside it', () => {
    const licence = readFileSync(join(ROOT, 'app', 'src', 'fonts', 'OFL.txt'), 'utf8');
    expect(licence).toContain('SIL Open Font License, Version 1.1');
    expect(licence).toContain('Adobe');
  });

  it('is what the styles load, before the generic fallback, for ordinary and monospace text', () => {
    const css = readFileSync(join(ROOT, 'app', 'src', 'styles.css'), 'utf8');
    const face = css.match(/@font-face\s*{[^}]*}/)?.[0] ?? '';
    expect(face).toContain("font-family: 'JZQY UI Han'");
    expect(face).toContain("url('./fonts/ui-han.woff2') format('woff2')");
    expect(existsSync(join(ROOT, 'app', 'src', 'fonts', 'ui-han.woff2'))).toBe(true);
    const declared = [...css.matchAll(/font-family:\s*([^;]+);/g)].map((m) => m[1]);
    // Form controls inherit the page's stack (WebKitGTK gives them its own "Sans" otherwise).
    expect(declared).toContain('inherit');
    const stacks = declared.filter((f) => !f.startsWith("'JZQY UI Han'") && f !== 'inherit');
    expect(stacks.length).toBeGreaterThanOrEqual(2);
    for (const stack of stacks) {
      const families = stack.split(',').map((f) => f.trim());
      const bundled = families.indexOf("'JZQY UI Han'");
      expect(bundled, stack).toBeGreaterThanOrEqual(0);
      // After the named system CJK fonts (full coverage where installed), before the generic
      // family, whose system fallback could pick a font without Chinese.
      expect(bundled, stack).toBe(families.length - 2);
    }
  });
});

describe('reading the app’s text', () => {
  it('takes TypeScript literals, template parts and JSX text, not comments', async () => {
    const src = `// 注释
      const a = '确认'; const b = \`第\${n}页\`; /* 块注释 */
      const c = <p title="标题">正文 {t('x')}</p>;`;
    const got = cjkCodePoints(await tsLiterals('x.tsx', src)).map((cp) => String.fromCodePoint(cp)).join('');
    expect([...got].sort().join('')).toBe([...'确认第页标题正文'].sort().join(''));
  });

  it('takes Rust string and char literals, not comments or lifetimes', () => {
    const src = [
      '//! 模块文档',
      '/// 文档 "引号"',
      "fn f<'a>(x: &'a str) -> &'a str { x }",
      'const URL: &str = "http://例.cn/路径"; // 行尾注释',
      '/* 外层 /* 嵌套 */ 仍是注释 */',
      'const R: &str = r#"原始"字符串"#;',
      "const SEP: char = '、';",
      "const Q: char = '\\'';",
      'const B: &[u8] = b"bytes";',
      'let brand = "品牌"; let x = r"乙";',
    ].join('\n');
    const got = rustLiterals(src);
    expect(got).toEqual(['http://例.cn/路径', '原始"字符串', '、', "\\'", 'bytes', '品牌', '乙']);
  });

  it('counts as Chinese the ideographs, CJK punctuation and fullwidth forms, not Latin or the ideographic space', () => {
    for (const ch of '中龘，、：（）㎡〇') expect(isCjk(ch.codePointAt(0)!), ch).toBe(true);
    for (const ch of 'Aé—…·✓ \u3000') expect(isCjk(ch.codePointAt(0)!), ch).toBe(false);
    expect(isCjk('𠀀'.codePointAt(0)!)).toBe(true);
  });
});

describe('reading a font’s character map', () => {
  it('finds what the font has and not what it lacks', () => {
    const font = fontCodePoints(readFileSync(FONT));
    expect(font.has('取'.codePointAt(0)!)).toBe(true);
    expect(font.has('样'.codePointAt(0)!)).toBe(true);
    // A rare character no screen says, and plain Latin, which the subset leaves to the system.
    expect(font.has('龘'.codePointAt(0)!)).toBe(false);
    expect(font.has('A'.codePointAt(0)!)).toBe(false);
  });

  it('refuses what is not a font', () => {
    expect(() => fontCodePoints(Buffer.from('%PDF-1.7 not a font'))).toThrow(/not a font/);
  });
});
