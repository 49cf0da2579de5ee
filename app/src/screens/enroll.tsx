// First run: scan the server's enrollment QR (or paste its text).
import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { CmdError, Profile } from '../api';
import { toCmdError } from '../logic/errors';
import { Camera } from '../ui/camera';
import { ErrorBanner } from '../ui/feedback';
import { useApp } from '../ui/ctx';

export function EnrollScreen({ onEnrolled }: { onEnrolled: (p: Profile) => void }) {
  const { t } = useApp();
  const [text, setText] = useState('');
  const [scanning, setScanning] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CmdError | null>(null);
  const sent = useRef(false);

  const submit = async (qr: string) => {
    if (!qr.trim()) return;
    setBusy(true);
    setError(null);
    try {
      onEnrolled(await api.enroll(qr.trim()));
    } catch (e) {
      sent.current = false;
      setError(toCmdError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="step" aria-labelledby="enroll-title">
      <h1 id="enroll-title">{t('enroll.title')}</h1>
      <p class="lead">{t('enroll.hint')}</p>
      {scanning ? (
        <>
          <Camera
            purpose="qr"
            onEvent={(ev) => {
              if (ev.kind === 'qr' && ev.text && !sent.current) {
                sent.current = true;
                setText(ev.text);
                setScanning(false);
                void submit(ev.text);
              }
            }}
          />
          <button type="button" class="btn btn-secondary" data-testid="enroll-scan-stop" onClick={() => setScanning(false)}>
            {t('enroll.stopScan')}
          </button>
        </>
      ) : (
        <button type="button" class="btn btn-primary btn-huge" data-testid="enroll-scan" disabled={busy} onClick={() => setScanning(true)}>
          {t('enroll.scan')}
        </button>
      )}
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <form
        class="manual"
        onSubmit={(e) => {
          e.preventDefault();
          void submit(text);
        }}
      >
        <label for="enroll-text">{t('enroll.pasteLabel')}</label>
        <textarea id="enroll-text" data-testid="enroll-qr-text" rows={4} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        <button type="submit" class="btn btn-primary" data-testid="enroll-submit" disabled={busy || !text.trim()}>
          {busy ? t('enroll.busy') : t('enroll.submit')}
        </button>
      </form>
    </section>
  );
}
