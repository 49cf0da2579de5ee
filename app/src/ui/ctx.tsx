// What every screen can reach: language, profile, sync status, navigation.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { Lang, Profile, SyncStatus } from '../api';
import type { T } from '../i18n';

export type Screen =
  | { name: 'home' }
  | { name: 'sample' }
  | { name: 'open'; record: string }
  | { name: 'witness' }
  | { name: 'commission' }
  | { name: 'lab' }
  | { name: 'history' }
  | { name: 'console' }
  | { name: 'detail'; id: string };

export interface AppCtx {
  lang: Lang;
  t: T;
  setLang: (l: Lang) => void;
  profile: Profile | null;
  reloadProfile: () => Promise<void>;
  status: SyncStatus | null;
  refreshStatus: () => void;
  go: (s: Screen) => void;
}

export const Ctx = createContext<AppCtx | null>(null);

export function useApp(): AppCtx {
  const c = useContext(Ctx);
  if (!c) throw new Error('no app context');
  return c;
}

/** The current time, re-rendering every `everyMs`. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
