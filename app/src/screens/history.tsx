// Every record on this phone with its state, evidence, sync and findings.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { CmdError, MediaView, RecordView } from '../api';
import { msg, toCmdError } from '../logic/errors';
import { formatBytes, formatDateTime, short } from '../logic/format';
import { purposeKey, recordKindKey, recordKindTone, specimenKey, stateKey, stateTone } from '../logic/labels';
import { commissionInfo, samplingInfo, witnessedSampling } from '../logic/records';
import { orgName, personName, findUnit } from '../logic/grants';
import { ErrorBanner, FindingList } from '../ui/feedback';
import { PdfButton } from './commission';
import { useApp } from '../ui/ctx';

function KindLabel({ r }: { r: RecordView }) {
  const { t, lang } = useApp();
  const k = recordKindKey(r.kind);
  return <>{k ? t(k) : lang === 'zh-CN' ? r.kind_zh : r.kind}</>;
}

function StateBadge({ state }: { state: string }) {
  const { t } = useApp();
  return <span class={`badge tone-${stateTone(state)}`}>{t(stateKey(state))}</span>;
}

export function HistoryScreen() {
  const { t, go } = useApp();
  const [list, setList] = useState<RecordView[] | null>(null);
  const [error, setError] = useState<CmdError | null>(null);
  useEffect(() => {
    api.history(200).then(setList, (e) => setError(toCmdError(e)));
  }, []);
  return (
    <div class="flow">
      <h1>{t('history.title')}</h1>
      <ErrorBanner error={error} />
      {list === null && !error && <p>{t('common.loading')}</p>}
      {list !== null && list.length === 0 && <p data-testid="history-empty">{t('history.none')}</p>}
      <ul class="list" data-testid="history-list" data-count={list?.length ?? 0}>
        {(list ?? []).map((r) => {
          const uploaded = r.media.filter((m) => m.complete).length;
          return (
            <li key={r.id}>
              <button
                type="button"
                class={`list-btn hist ${recordKindTone(r.kind)} s-${r.state}`}
                data-testid="history-item"
                data-record={r.id}
                data-state={r.state}
                data-kind={r.kind}
                onClick={() => go({ name: 'detail', id: r.id })}
              >
                <div class="list-main">
                  <div class="row-between">
                    <strong>
                      <KindLabel r={r} />
                    </strong>
                    <StateBadge state={r.state} />
                  </div>
                  <span class="mono">{r.tags.join(' ')}</span>
                  <span class="small">
                    {formatDateTime(r.created_ms, false)} · {r.mine ? t('history.mine') : t('history.peer')}
                    {r.media.length > 0 && ` · ${t('history.media', { done: uploaded, n: r.media.length })}`}
                    {r.receipt_verified && ` · ${t('history.receipt')}`}
                    {r.findings.length > 0 && ` · ${t('history.findings', { n: r.findings.length })}`}
                  </span>
                </div>
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function MediaPreview({ m }: { m: MediaView }) {
  const { t, lang } = useApp();
  const [src, setSrc] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [show, setShow] = useState(m.purpose !== 'face');
  useEffect(() => {
    if (!show || !m.media_type.startsWith('image/')) return;
    api.mediaPreview(m.sha256).then(setSrc, (e) => setErr(msg(toCmdError(e), lang)));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [m.sha256, show]);
  return (
    <figure class="thumb-box" data-testid="media" data-purpose={m.purpose} data-complete={m.complete ? 'true' : 'false'}>
      {!show ? (
        <button type="button" class="thumb placeholder" data-testid="media-show" onClick={() => setShow(true)}>
          {t('history.showFace')}
        </button>
      ) : src ? (
        <img class="thumb" src={src} alt={t(purposeKey(m.purpose))} />
      ) : (
        <div class="thumb placeholder">{err ?? (m.media_type.startsWith('image/') ? t('common.loading') : m.media_type)}</div>
      )}
      <figcaption class="small">
        {t(purposeKey(m.purpose))} · {formatBytes(m.size)} · {m.complete ? t('history.uploaded') : t('history.notUploaded')}
      </figcaption>
    </figure>
  );
}

export function DetailScreen({ id }: { id: string }) {
  const { t, profile, go } = useApp();
  const [r, setR] = useState<RecordView | null | undefined>(undefined);
  const [error, setError] = useState<CmdError | null>(null);
  const [cosigned, setCosigned] = useState(false);
  useEffect(() => {
    api.record(id).then(setR, (e) => setError(toCmdError(e)));
  }, [id]);
  if (r === undefined) return error ? <ErrorBanner error={error} /> : <p>{t('common.loading')}</p>;
  if (r === null) return <p data-testid="record-missing">{t('history.missing')}</p>;
  const s = samplingInfo(r);
  const c = commissionInfo(r);
  const ws = witnessedSampling(r);
  const me = profile?.person.id ?? '';
  const canCosign = !!c && !r.mine && c.witness === me;
  const alreadyCosigned = cosigned || r.cosigners.includes(me);
  const cosign = async () => {
    setError(null);
    try {
      await api.cosign(r.id);
      setCosigned(true);
    } catch (e) {
      setError(toCmdError(e));
    }
  };
  return (
    <div class="flow" data-testid="record-detail" data-record={r.id} data-state={r.state} data-kind={r.kind}>
      <h1>
        <KindLabel r={r} /> <StateBadge state={r.state} />
      </h1>
      <button type="button" class="btn btn-small btn-secondary" data-testid="detail-back" onClick={() => go({ name: 'history' })}>
        {t('history.back')}
      </button>
      <dl class="facts">
        <dt>{t('detail.id')}</dt>
        <dd class="mono small">{r.id}</dd>
        <dt>{t('detail.author')}</dt>
        <dd>{personName(profile, r.author)}</dd>
        <dt>{t('detail.time')}</dt>
        <dd>{formatDateTime(r.created_ms)}</dd>
        {r.tags.length > 0 && (
          <>
            <dt>{t('summary.tag')}</dt>
            <dd class="mono">{r.tags.join(' ')}</dd>
          </>
        )}
        <dt>{t('detail.sync')}</dt>
        <dd data-testid="detail-sync">
          {r.state === 'pending' ? t('detail.notYet') : t(stateKey(r.state))}
          {r.log_index !== null && ` · ${t('detail.logIndex', { n: r.log_index })}`}
        </dd>
        <dt>{t('detail.receipt')}</dt>
        <dd data-testid="detail-receipt" data-verified={r.receipt_verified ? 'true' : 'false'} class={r.receipt_verified ? 'tone-ok' : ''}>
          {r.receipt_verified ? t('detail.receiptOk') : t('detail.receiptNone')}
        </dd>
        {s && (
          <>
            <dt>{t('specimen.unitProject')}</dt>
            <dd>{findUnit(profile, s.unitProject)?.name ?? s.unitProject}</dd>
            <dt>{t('specimen.kind')}</dt>
            <dd>{s.kind ? t(specimenKey(s.kind)) : '—'}</dd>
            <dt>{t('specimen.part')}</dt>
            <dd>{s.part ?? '—'}</dd>
            <dt>{t('specimen.grade')}</dt>
            <dd>{s.grade || '—'}</dd>
            <dt>{t('specimen.quantity')}</dt>
            <dd>
              {s.quantity ?? '—'} {s.unit ?? ''}
            </dd>
            <dt>{t('specimen.tests')}</dt>
            <dd>{s.tests.join(t('common.listSep')) || '—'}</dd>
          </>
        )}
        {ws && (
          <>
            <dt>{t('detail.witnessed')}</dt>
            <dd>
              <button type="button" class="link" data-testid="detail-link" onClick={() => go({ name: 'detail', id: ws })}>
                {short(ws, 16)}
              </button>
            </dd>
          </>
        )}
        {c && (
          <>
            <dt>{t('commission.formNo')}</dt>
            <dd>{c.formNo}</dd>
            <dt>{t('commission.lab')}</dt>
            <dd>{orgName(profile, c.lab)}</dd>
            <dt>{t('commission.witness')}</dt>
            <dd>{personName(profile, c.witness)}</dd>
            <dt>{t('detail.items')}</dt>
            <dd class="mono">{c.items.map((i) => i.tag).join(' ')}</dd>
            <dt>{t('detail.cosigners')}</dt>
            <dd data-testid="detail-cosigners">{r.cosigners.map((x) => personName(profile, x)).join(t('common.listSep')) || t('detail.noCosign')}</dd>
          </>
        )}
      </dl>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {r.findings.length > 0 && (
        <section>
          <h2>{t('detail.findings')}</h2>
          <FindingList findings={r.findings} testid="detail-findings" />
        </section>
      )}
      {c && (
        <div class="actions">
          {canCosign &&
            (alreadyCosigned ? (
              <span class="badge tone-ok" data-testid="cosign-done">{t('cosign.done')}</span>
            ) : (
              <button type="button" class="btn btn-primary btn-big" data-testid="cosign" data-record={r.id} onClick={() => void cosign()}>
                {t('cosign.action')}
              </button>
            ))}
          <PdfButton record={r.id} />
        </div>
      )}
      {r.media.length > 0 && (
        <section>
          <h2>{t('detail.evidence')}</h2>
          <div class="thumbs">
            {r.media.map((m) => (
              <MediaPreview key={m.sha256} m={m} />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
