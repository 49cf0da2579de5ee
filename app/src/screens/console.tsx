// Sign in to the web console with this phone (issue 13): scan the QR on the
// console's sign-in page (or paste its text), check which browser is asking
// — its address, its software, when — and approve. The request is signed
// with this phone's enrolled key; the server lets in only a person with an
// authorisation in force (R1).
import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { CmdError, ConsoleLoginInfo } from '../api';
import { toCmdError } from '../logic/errors';
import { formatDateTime } from '../logic/format';
import { Camera } from '../ui/camera';
import { ErrorBanner } from '../ui/feedback';
import { useApp } from '../ui/ctx';

export function ConsoleScreen() {
  const { t, go } = useApp();
  const [text, setText] = useState('');
  const [scanning, setScanning] = useState(true);
  const [busy, setBusy] = useState(false);
  const [info, setInfo] = useState<ConsoleLoginInfo | null>(null);
  const [approved, setApproved] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const seen = useRef(false);

  const look = async (qr: string) => {
    if (!qr.trim()) return;
    setBusy(true);
    setError(null);
    try {
      setInfo(await api.consoleLoginInfo(qr.trim()));
    } catch (e) {
      seen.current = false;
      setError(toCmdError(e));
    } finally {
      setBusy(false);
    }
  };
  const approve = async () => {
    setBusy(true);
    setError(null);
    try {
      setInfo(await api.consoleLoginApprove(text.trim()));
      setApproved(true);
    } catch (e) {
      setError(toCmdError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="step" aria-labelledby="console-title">
      <h1 id="console-title">{t('console.title')}</h1>
      <p class="lead">{t('console.hint')}</p>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {approved && info ? (
        <div class="banner banner-ok" role="status" data-testid="console-approved" data-login={info.id}>
          {t('console.approved')}
          <div>
            <button type="button" class="btn btn-primary" onClick={() => go({ name: 'home' })}>{t('nav.home')}</button>
          </div>
        </div>
      ) : info ? (
        <div class="card" data-testid="console-request" data-login={info.id} data-pending={info.pending ? 'true' : 'false'}>
          <h2>{t('console.asking')}</h2>
          <dl class="facts">
            <dt>{t('console.address')}</dt>
            <dd class="mono">{info.ip}</dd>
            <dt>{t('console.browser')}</dt>
            <dd class="small">{info.agent || '—'}</dd>
            <dt>{t('console.when')}</dt>
            <dd>{formatDateTime(info.created_ms)}</dd>
          </dl>
          {info.pending ? (
            <>
              <p class="banner banner-warn">{t('console.onlyYours')}</p>
              <button type="button" class="btn btn-primary btn-huge" data-testid="console-approve" disabled={busy} onClick={() => void approve()}>
                {busy ? t('console.busy') : t('console.approve')}
              </button>
            </>
          ) : (
            <p class="banner banner-error" data-testid="console-closed">{t('console.closed')}</p>
          )}
          <button type="button" class="btn btn-secondary" data-testid="console-cancel" onClick={() => go({ name: 'home' })}>
            {t('console.cancel')}
          </button>
        </div>
      ) : (
        <>
          {scanning ? (
            <>
              <Camera
                purpose="qr"
                onEvent={(ev) => {
                  if (ev.kind === 'qr' && ev.text && !seen.current) {
                    seen.current = true;
                    setText(ev.text);
                    setScanning(false);
                    void look(ev.text);
                  }
                }}
              />
              <button type="button" class="btn btn-secondary" onClick={() => setScanning(false)}>
                {t('enroll.stopScan')}
              </button>
            </>
          ) : (
            <button type="button" class="btn btn-primary btn-big" data-testid="console-scan" disabled={busy} onClick={() => setScanning(true)}>
              {t('console.scan')}
            </button>
          )}
          <form
            class="manual"
            onSubmit={(e) => {
              e.preventDefault();
              void look(text);
            }}
          >
            <label for="console-text">{t('console.pasteLabel')}</label>
            <textarea id="console-text" data-testid="console-qr-text" rows={3} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
            <button type="submit" class="btn btn-primary" data-testid="console-submit" disabled={busy || !text.trim()}>
              {t('console.check')}
            </button>
          </form>
        </>
      )}
    </section>
  );
}
