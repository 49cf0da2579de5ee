// Who I am, what I may do (R1), and the one button for each job.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { AppInfo, OpenSampling, PersonRole } from '../api';
import { canAct, grantState } from '../logic/grants';
import { formatDateTime } from '../logic/format';
import { orgRoleKey, roleKey } from '../logic/labels';
import { localDeadline } from '../logic/countdown';
import type { MsgKey } from '../i18n';
import type { Screen } from '../ui/ctx';
import { useApp, useNow } from '../ui/ctx';
import { Countdown } from '../ui/widgets';

const ACTIONS: { id: string; key: MsgKey; role: PersonRole | null; screen: Screen; primary?: boolean }[] = [
  { id: 'home-sample', key: 'home.sample', role: 'sampler', screen: { name: 'sample' }, primary: true },
  { id: 'home-witness', key: 'home.witness', role: 'witness', screen: { name: 'witness' }, primary: true },
  { id: 'home-commission', key: 'home.commission', role: 'sampler', screen: { name: 'commission' } },
  { id: 'home-lab', key: 'home.lab', role: 'lab_receiver', screen: { name: 'lab' }, primary: true },
  { id: 'home-history', key: 'home.history', role: null, screen: { name: 'history' } },
  { id: 'home-console', key: 'home.console', role: null, screen: { name: 'console' } },
];

/** Allowed jobs first, then history, then what the person may not do. */
export function actionRank(role: PersonRole | null, allowed: boolean): number {
  return role === null ? 1 : allowed ? 0 : 2;
}

export function HomeScreen() {
  const { t, profile, go } = useApp();
  const now = useNow(10_000);
  const [open, setOpen] = useState<(OpenSampling & { local: number })[]>([]);
  const [info, setInfo] = useState<AppInfo | null>(null);
  useEffect(() => {
    const load = () =>
      api.openSamplings().then(
        (l) => {
          const at = Date.now();
          setOpen(l.filter((o) => o.mine).map((o) => ({ ...o, local: localDeadline(o.remaining_ms, at) })));
        },
        () => undefined,
      );
    void load();
    api.appInfo().then(setInfo, () => undefined);
    const id = setInterval(load, 10_000);
    return () => clearInterval(id);
  }, []);
  if (!profile) return null;
  const revoked = profile.device_revoked_ms !== null;
  const projectName = (id: string | null) => (id ? profile.projects.find((p) => p.project.id === id)?.project.name ?? id : t('home.allProjects'));

  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title" class="sr-only">{t('app.title')}</h1>
      <div class="card whoami" data-testid="whoami" data-person={profile.person.id}>
        <div class="who-name">{profile.person.name}</div>
        <div>
          {profile.org.name} · {t(orgRoleKey(profile.org_role))}
        </div>
        <div class="small">{t('home.projects', { list: profile.projects.map((p) => p.project.name).join(t('common.listSep')) || '—' })}</div>
      </div>
      {revoked && (
        <div class="banner banner-error" role="alert" data-testid="device-revoked">
          {t('home.deviceRevoked', { when: formatDateTime(profile.device_revoked_ms) })}
        </div>
      )}
      <div class="actions-grid">
        {ACTIONS.map((a) => ({ a, allowed: !revoked && (a.role === null || canAct(profile, a.role, now)) }))
          // What the person may do first; the rest stays visible, disabled, with the reason (R1).
          .sort((x, y) => actionRank(x.a.role, x.allowed) - actionRank(y.a.role, y.allowed))
          .map(({ a, allowed }) => {
          return (
            <div key={a.id} class="action-cell">
              <button
                type="button"
                class={`btn ${a.primary ? 'btn-primary btn-huge' : 'btn-big'}`}
                data-testid={a.id}
                disabled={!allowed}
                aria-describedby={allowed ? undefined : `${a.id}-why`}
                onClick={() => go(a.screen)}
              >
                {t(a.key)}
              </button>
              {!allowed && (
                <div class="why tone-bad" id={`${a.id}-why`} data-testid={`${a.id}-why`}>
                  {revoked ? t('home.deviceRevokedShort') : t('home.noGrant', { role: t(roleKey(a.role ?? '')) })}
                </div>
              )}
            </div>
          );
        })}
      </div>
      {!canAct(profile, 'sampler', now) && !canAct(profile, 'witness', now) && !canAct(profile, 'lab_receiver', now) && (
        <p class="banner banner-warn" data-testid="no-grants">{t('home.noActions')}</p>
      )}
      {open.length > 0 && (
        <div class="card">
          <h2>{t('home.openTitle')}</h2>
          <ul class="list">
            {open.map((o) => (
              <li key={o.record}>
                <button type="button" class="list-btn" data-testid="open-item" data-record={o.record} onClick={() => go({ name: 'open', record: o.record })}>
                  <span class="mono">{o.tag_printed}</span> <span>{o.kind}</span>
                  <Countdown remainingMs={o.local - now} windowMs={profile.policy.witness_window_ms} />
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="card">
        <h2>{t('home.grants')}</h2>
        <ul class="list" data-testid="grants">
          {profile.grants.length === 0 && <li>{t('home.noGrantsAtAll')}</li>}
          {profile.grants.map((g) => {
            const st = grantState(g, now);
            return (
              <li key={g.grant} class={`grant g-${st}`} data-testid="grant" data-role={g.role} data-state={st}>
                <strong>{t(roleKey(g.role))}</strong> · {projectName(g.project)}
                <span class={`badge tone-${st === 'active' ? 'ok' : 'bad'}`}>{t(`grant.${st}` as MsgKey)}</span>
                <div class="small">
                  {t('grant.validity', { from: formatDateTime(g.valid_from_ms, false), until: g.valid_until_ms ? formatDateTime(g.valid_until_ms, false) : t('grant.noEnd') })}
                  {g.revoked_at_ms !== null && ` · ${t('grant.revokedAt', { when: formatDateTime(g.revoked_at_ms, false) })}`}
                </div>
              </li>
            );
          })}
        </ul>
      </div>
      {info && (
        <p class="small muted" data-testid="app-info">
          {t('home.appInfo', { version: info.version, platform: info.platform, camera: info.camera.source, location: info.location.source })}
        </p>
      )}
    </section>
  );
}
