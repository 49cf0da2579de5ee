import { describe, expect, it } from 'vitest';
import { catalogues, loadLang, otherLang, saveLang, translate, STORAGE_KEY } from '../src/i18n';
import { zh } from '../src/i18n/zh-CN';
import { en } from '../src/i18n/en';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  it('zh-CN and en have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort());
  });

  it('no message is empty', () => {
    for (const [lang, cat] of Object.entries(catalogues)) {
      for (const [k, v] of Object.entries(cat)) {
        expect(typeof v, `${lang} ${k}`).toBe('string');
        expect(v.trim(), `${lang} ${k}`).not.toBe('');
      }
    }
  });

  it('both languages use the same placeholders for each key', () => {
    for (const k of Object.keys(zh) as (keyof typeof zh)[]) {
      expect(placeholders(en[k]), k).toEqual(placeholders(zh[k]));
    }
  });

  it('zh-CN messages are Chinese and use the glossary terms', () => {
    expect(zh['role.sampler']).toBe('取样员');
    expect(zh['role.witness']).toBe('见证员');
    expect(zh['app.title']).toBe('见证取样');
    expect(zh['record.commission']).toBe('委托单');
    expect(zh['home.lab']).toBe('收样');
    expect(zh['summary.tag']).toBe('标识');
    expect(zh['specimen.part']).toBe('工程部位');
    expect(zh['specimen.unitProject']).toBe('单位工程');
    expect(zh['specimen.seal']).toContain('封志');
    // Most zh messages carry Chinese characters (a few are symbols or names).
    const chinese = Object.values(zh).filter((v) => /[\u4e00-\u9fff]/.test(v)).length;
    expect(chinese / Object.keys(zh).length).toBeGreaterThan(0.95);
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(translate('zh-CN', 'photo.count', { n: 3 })).toBe('已拍 3 张');
    expect(translate('en', 'photo.count', { n: 3 })).toBe('3 photos');
    expect(translate('en', 'gps.waiting')).toBe('Locating… {s} s');
  });
});

describe('language choice', () => {
  it('defaults to zh-CN and persists the choice', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    expect(loadLang(storage)).toBe('zh-CN');
    saveLang(storage, 'en');
    expect(store.get(STORAGE_KEY)).toBe('en');
    expect(loadLang(storage)).toBe('en');
    store.set(STORAGE_KEY, 'fr');
    expect(loadLang(storage)).toBe('zh-CN');
    expect(loadLang(null)).toBe('zh-CN');
    expect(otherLang('zh-CN')).toBe('en');
    expect(otherLang('en')).toBe('zh-CN');
  });

  it('survives a storage that throws', () => {
    const bad = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
    expect(loadLang(bad)).toBe('zh-CN');
    expect(() => saveLang(bad, 'en')).not.toThrow();
  });
});
