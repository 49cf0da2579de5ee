// The live camera for one purpose (tag, qr, face, photo). Frames come
// either from the webview (getUserMedia → canvas → cameraPush, one frame in
// flight at a time) or from the shell (cameraPull, showing its preview).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import type { CameraEvent, CameraInfo, CameraPurpose, CmdError } from '../api';
import { fitFrame, nextDelay, packFrame } from '../logic/frame';
import { msg, toCmdError } from '../logic/errors';
import { serial } from '../logic/serial';
import type { MsgKey } from '../i18n';
import { sleep, useApp } from './ctx';

/** Every camera command goes through this queue, in order. */
export const cameraCall = serial();

export type CameraProblem = { key: MsgKey } | { error: CmdError };

interface Props {
  purpose: CameraPurpose;
  unitProject?: string | null;
  onEvent?: (ev: CameraEvent) => void;
  /** The camera cannot be used (denied, none): the screen offers its fallback. */
  onUnavailable?: (p: CameraProblem) => void;
  fps?: number;
}

function mediaErrorKey(e: unknown): MsgKey {
  const name = e && typeof e === 'object' && 'name' in e ? String((e as { name: unknown }).name) : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') return 'camera.denied';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'camera.none';
  if (name === 'NotReadableError') return 'camera.busy';
  return 'camera.failed';
}

export function Camera({ purpose, unitProject = null, onEvent, onUnavailable, fps = 8 }: Props) {
  const { t, lang } = useApp();
  const videoRef = useRef<HTMLVideoElement>(null);
  const [info, setInfo] = useState<CameraInfo | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<CameraProblem | null>(null);
  const [hint, setHint] = useState<string | null>(null);
  const [torch, setTorch] = useState(false);
  const langRef = useRef(lang);
  langRef.current = lang;
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const onUnavailableRef = useRef(onUnavailable);
  onUnavailableRef.current = onUnavailable;

  useEffect(() => {
    let alive = true;
    let stream: MediaStream | null = null;
    const fail = (p: CameraProblem) => {
      if (!alive) return;
      setProblem(p);
      onUnavailableRef.current?.(p);
    };
    const handle = (ev: CameraEvent) => {
      if (!alive) return;
      if (ev.preview) setPreview(ev.preview);
      setHint(ev.kind === 'error' ? msg(ev, langRef.current) || null : null);
      onEventRef.current?.(ev);
    };
    (async () => {
      let inf: CameraInfo;
      try {
        inf = await cameraCall(() => api.cameraStart(purpose, unitProject));
      } catch (e) {
        fail({ error: toCmdError(e) });
        return;
      }
      if (!alive) return;
      setInfo(inf);
      if (inf.source === 'webview') {
        if (!navigator.mediaDevices?.getUserMedia) {
          fail({ key: 'camera.none' });
          return;
        }
        try {
          stream = await navigator.mediaDevices.getUserMedia({
            video: { facingMode: purpose === 'face' ? 'user' : 'environment', width: { ideal: 1280 }, height: { ideal: 720 } },
            audio: false,
          });
        } catch (e) {
          fail({ key: mediaErrorKey(e) });
          return;
        }
        if (!alive) {
          stream.getTracks().forEach((tr) => tr.stop());
          return;
        }
        const video = videoRef.current;
        if (!video) return;
        video.srcObject = stream;
        await video.play().catch(() => undefined);
        const canvas = document.createElement('canvas');
        const g = canvas.getContext('2d', { willReadFrequently: true });
        if (!g) {
          fail({ key: 'camera.failed' });
          return;
        }
        while (alive) {
          const t0 = performance.now();
          if (video.readyState >= 2 && video.videoWidth > 0) {
            const { width, height } = fitFrame(video.videoWidth, video.videoHeight);
            if (canvas.width !== width || canvas.height !== height) {
              canvas.width = width;
              canvas.height = height;
            }
            g.drawImage(video, 0, 0, width, height);
            const img = g.getImageData(0, 0, width, height);
            try {
              handle(await cameraCall(() => api.cameraPush(packFrame(img.data, width, height))));
            } catch (e) {
              if (alive) setHint(msg(toCmdError(e), langRef.current));
              await sleep(1000);
            }
          }
          await sleep(nextDelay(performance.now() - t0, fps));
        }
      } else {
        while (alive) {
          const t0 = performance.now();
          try {
            handle(await cameraCall(() => api.cameraPull()));
          } catch (e) {
            if (alive) setHint(msg(toCmdError(e), langRef.current));
            await sleep(1000);
          }
          await sleep(nextDelay(performance.now() - t0, fps));
        }
      }
    })();
    return () => {
      alive = false;
      stream?.getTracks().forEach((tr) => tr.stop());
      void cameraCall(() => api.cameraStop()).catch(() => undefined);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [purpose, unitProject]);

  const toggleTorch = async () => {
    try {
      setTorch(await cameraCall(() => api.cameraTorch(!torch)));
    } catch (e) {
      setHint(msg(toCmdError(e), lang));
    }
  };

  return (
    <div class="camera">
      <div class={`camera-preview${purpose === 'face' ? ' mirror' : ''}`} data-testid="camera-preview" data-source={info?.source ?? ''}>
        <video
          ref={videoRef}
          playsInline
          muted
          autoPlay
          aria-label={t('camera.previewLabel')}
          style={info?.source === 'webview' ? undefined : { display: 'none' }}
        />
        {info?.source === 'webview' ? null : preview ? (
          <img src={preview} alt={t('camera.previewLabel')} />
        ) : (
          <div class="camera-wait">{problem ? '' : t('camera.starting')}</div>
        )}
        {purpose === 'tag' || purpose === 'qr' ? <div class="camera-aim" aria-hidden="true" /> : null}
      </div>
      {problem && (
        <div class="banner banner-error" role="alert" data-testid="camera-problem">
          {'key' in problem ? t(problem.key) : msg(problem.error, lang)}
        </div>
      )}
      {hint && !problem && <div class="camera-hint" aria-live="polite">{hint}</div>}
      {(purpose === 'tag' || purpose === 'qr' || purpose === 'photo') && (
        <button
          type="button"
          class={`btn btn-small torch${torch ? ' on' : ''}`}
          data-testid="torch-toggle"
          aria-pressed={torch}
          disabled={!info?.torch}
          onClick={() => void toggleTorch()}
        >
          {info?.torch ? (torch ? t('camera.torchOff') : t('camera.torchOn')) : t('camera.noTorch')}
        </button>
      )}
    </div>
  );
}
