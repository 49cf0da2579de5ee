// No user-visible text outside the catalogues: JSX text with letters or
// Chinese, visible attributes given as string literals, and Chinese in any
// string literal of the components and logic fail this test.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const SRC = join(__dirname, '..', 'src');
// Catalogues hold the text; api.ts is the contract; domain.ts holds values recorded in the specimen (units on Chinese forms).
// dev/mock.ts is a stand-in for the Rust shell in `npm run dev` (its data plays Rust's part).
const EXEMPT = ['i18n/zh-CN.ts', 'i18n/en.ts', 'api.ts', 'logic/domain.ts', 'dev/mock.ts'];
const VISIBLE_ATTRS = new Set(['placeholder', 'title', 'alt', 'aria-label', 'label', 'value']);
const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]/;
const LETTERS = /[A-Za-z\u3400-\u9fff]/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx)$/.test(f) ? [p] : [];
  });
}

export function findHardcoded(name: string, text: string): string[] {
  const sf = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, name.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: string[] = [];
  const where = (n: ts.Node) => `${name}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const visit = (n: ts.Node) => {
    if (ts.isJsxText(n)) {
      const s = n.getText().trim();
      if (s && LETTERS.test(s)) out.push(`${where(n)} JSX text "${s}"`);
    } else if (ts.isJsxAttribute(n) && n.initializer && ts.isStringLiteral(n.initializer)) {
      const attr = n.name.getText();
      if (VISIBLE_ATTRS.has(attr) && LETTERS.test(n.initializer.text)) out.push(`${where(n)} ${attr}="${n.initializer.text}"`);
    } else if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) && CJK.test(n.text)) {
      out.push(`${where(n)} Chinese literal "${n.text}"`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

describe('no hard-coded UI text', () => {
  it('the detector finds what it should', () => {
    const bad = `const a = <div title="Hello">Sign here<b>签名</b>{'确认'}</div>;`;
    expect(findHardcoded('x.tsx', bad)).toHaveLength(4);
    const good = `// 注释可以写中文\nconst a = <div title={t('x')}>{t('y')} · ✓ — {n}</div>;`;
    expect(findHardcoded('x.tsx', good)).toEqual([]);
  });

  it('components and logic use the catalogues', () => {
    const problems: string[] = [];
    for (const f of files(SRC)) {
      const rel = relative(SRC, f).split('\\').join('/');
      if (EXEMPT.includes(rel)) continue;
      problems.push(...findHardcoded(rel, readFileSync(f, 'utf8')));
    }
    expect(problems).toEqual([]);
  });
});
