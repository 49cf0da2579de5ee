// Message catalogues and the current language (zh-CN by default, persisted).
import type { Lang } from '../api';
import { zh } from './zh-CN';
import { en } from './en';

export type MsgKey = keyof typeof zh;
export type Catalogue = Record<MsgKey, string>;

export const catalogues: Record<Lang, Catalogue> = { 'zh-CN': zh, en };
export const LANGS: Lang[] = ['zh-CN', 'en'];
export const STORAGE_KEY = 'jzqy.lang';

/** A message with `{name}` placeholders filled in. */
export function translate(lang: Lang, key: MsgKey, params?: Record<string, string | number>): string {
  const text = catalogues[lang][key] ?? catalogues['zh-CN'][key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

export type T = (key: MsgKey, params?: Record<string, string | number>) => string;

export function loadLang(storage: Pick<Storage, 'getItem'> | null): Lang {
  try {
    const v = storage?.getItem(STORAGE_KEY);
    return v === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

export function saveLang(storage: Pick<Storage, 'setItem'> | null, lang: Lang): void {
  try {
    storage?.setItem(STORAGE_KEY, lang);
  } catch {
    /* private mode: the choice lasts for this session */
  }
}

export function otherLang(lang: Lang): Lang {
  return lang === 'zh-CN' ? 'en' : 'zh-CN';
}
