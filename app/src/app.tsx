// The shell of the screens: language, profile, status polling, navigation.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api';
import type { CmdError, Lang, Profile, SyncStatus } from './api';
import { loadLang, saveLang, translate } from './i18n';
import type { T } from './i18n';
import { toCmdError } from './logic/errors';
import { Ctx } from './ui/ctx';
import type { AppCtx, Screen } from './ui/ctx';
import { StatusBar } from './ui/statusbar';
import { ErrorBanner } from './ui/feedback';
import { EnrollScreen } from './screens/enroll';
import { HomeScreen } from './screens/home';
import { SamplerScreen, OpenSamplingScreen } from './screens/sampler';
import { WitnessScreen } from './screens/witness';
import { CommissionScreen } from './screens/commission';
import { LabScreen } from './screens/lab';
import { HistoryScreen, DetailScreen } from './screens/history';
import { ConsoleScreen } from './screens/console';

export const STATUS_POLL_MS = 4000;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function App() {
  const [lang, setLangState] = useState<Lang>(() => loadLang(storage()));
  const [profile, setProfile] = useState<Profile | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<CmdError | null>(null);
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const [screen, setScreen] = useState<Screen>({ name: 'home' });

  const t: T = useCallback((k, p) => translate(lang, k, p), [lang]);
  const setLang = useCallback((l: Lang) => {
    saveLang(storage(), l);
    setLangState(l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(lang, 'app.title');
  }, [lang]);

  const reloadProfile = useCallback(async () => {
    try {
      setProfile(await api.profile());
      setLoadError(null);
    } catch (e) {
      setLoadError(toCmdError(e));
    } finally {
      setLoaded(true);
    }
  }, []);

  const refreshStatus = useCallback(() => {
    api.status().then(setStatus, () => undefined);
  }, []);

  useEffect(() => {
    void reloadProfile();
    refreshStatus();
    const id = setInterval(refreshStatus, STATUS_POLL_MS);
    return () => clearInterval(id);
  }, [reloadProfile, refreshStatus]);

  // The engine syncs in the background too: a new sync may bring new grants or projects.
  const lastSync = status?.last_sync_ms ?? null;
  useEffect(() => {
    if (lastSync !== null && loaded) void reloadProfile();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastSync]);

  const go = useCallback((s: Screen) => {
    setScreen(s);
    window.scrollTo?.(0, 0);
  }, []);

  const ctx: AppCtx = useMemo(
    () => ({ lang, t, setLang, profile, reloadProfile, status, refreshStatus, go }),
    [lang, t, setLang, profile, reloadProfile, status, refreshStatus, go],
  );

  let body;
  if (!loaded) body = <p class="lead">{t('common.loading')}</p>;
  else if (loadError && !profile)
    body = (
      <>
        <ErrorBanner error={loadError} />
        <button type="button" class="btn btn-primary" data-testid="retry" onClick={() => void reloadProfile()}>
          {t('common.retry')}
        </button>
      </>
    );
  else if (!profile) body = <EnrollScreen onEnrolled={(p) => { setProfile(p); refreshStatus(); go({ name: 'home' }); }} />;
  else
    switch (screen.name) {
      case 'home': body = <HomeScreen />; break;
      case 'sample': body = <SamplerScreen />; break;
      case 'open': body = <OpenSamplingScreen record={screen.record} />; break;
      case 'witness': body = <WitnessScreen />; break;
      case 'commission': body = <CommissionScreen />; break;
      case 'lab': body = <LabScreen />; break;
      case 'history': body = <HistoryScreen />; break;
      case 'detail': body = <DetailScreen id={screen.id} />; break;
      case 'console': body = <ConsoleScreen />; break;
    }

  return (
    <Ctx.Provider value={ctx}>
      <StatusBar />
      <main class="screen" data-screen={profile ? screen.name : 'enroll'}>
        {profile && screen.name !== 'home' && (
          <button type="button" class="btn btn-small btn-back" data-testid="nav-home" onClick={() => go({ name: 'home' })}>
            {t('nav.home')}
          </button>
        )}
        {body}
      </main>
    </Ctx.Provider>
  );
}
