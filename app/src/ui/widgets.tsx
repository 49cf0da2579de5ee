// Small pieces: countdown, signature pad, trail map, flow summary, SVG QR.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Captured, Collected, ScannedTag, UnitProject } from '../api';
import { formatCountdown, fractionLeft, urgency } from '../logic/countdown';
import { buildMap } from '../logic/map';
import type { MapLayer } from '../logic/map';
import { formatMetres } from '../logic/format';
import { FaceResult } from './steps';
import { useApp } from './ctx';

// ------------------------------------------------------------- countdown

export function Countdown(props: { remainingMs: number; windowMs: number; big?: boolean; testid?: string }) {
  const { t } = useApp();
  const u = urgency(props.remainingMs, props.windowMs);
  const minutes = Math.max(0, Math.ceil(props.remainingMs / 60_000));
  return (
    <div class={`countdown u-${u}${props.big ? ' big' : ''}`} data-testid={props.testid} data-urgency={u} data-remaining={Math.round(props.remainingMs)}>
      <div class="countdown-label">{u === 'late' ? t('countdown.late') : t('countdown.left')}</div>
      <div class="countdown-time" role="timer">{formatCountdown(props.remainingMs)}</div>
      <div class="countdown-bar" aria-hidden="true">
        <div style={{ width: `${fractionLeft(props.remainingMs, props.windowMs) * 100}%` }} />
      </div>
      {/* Announced once a minute, not every second. */}
      <div class="sr-only" aria-live="polite">
        {u === 'late' ? t('countdown.lateSr') : t('countdown.minutesSr', { n: minutes })}
      </div>
    </div>
  );
}

// ------------------------------------------------------------- signature

/** A canvas to sign on with a finger; exports PNG bytes. */
export function SignaturePad(props: { onDone: (png: Uint8Array) => void; busy?: boolean }) {
  const { t } = useApp();
  const ref = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const [strokes, setStrokes] = useState(0);

  const reset = () => {
    const c = ref.current;
    if (!c) return;
    const ratio = window.devicePixelRatio || 1;
    c.width = Math.round(c.clientWidth * ratio);
    c.height = Math.round(c.clientHeight * ratio);
    const g = c.getContext('2d');
    if (!g) return;
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, c.width, c.height);
    g.lineWidth = 3 * ratio;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.strokeStyle = '#000000';
    setStrokes(0);
  };
  useEffect(reset, []);

  const point = (e: PointerEvent): [number, number] => {
    const c = ref.current!;
    const r = c.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * c.width, ((e.clientY - r.top) / r.height) * c.height];
  };
  const down = (e: PointerEvent) => {
    const g = ref.current?.getContext('2d');
    if (!g) return;
    e.preventDefault();
    ref.current!.setPointerCapture?.(e.pointerId);
    drawing.current = true;
    const [x, y] = point(e);
    g.beginPath();
    g.moveTo(x, y);
    g.lineTo(x + 0.1, y + 0.1);
    g.stroke();
  };
  const move = (e: PointerEvent) => {
    if (!drawing.current) return;
    const g = ref.current?.getContext('2d');
    if (!g) return;
    const [x, y] = point(e);
    g.lineTo(x, y);
    g.stroke();
  };
  const up = () => {
    if (drawing.current) setStrokes((n) => n + 1);
    drawing.current = false;
  };
  const done = () => {
    ref.current?.toBlob(async (blob) => {
      if (!blob) return;
      props.onDone(new Uint8Array(await blob.arrayBuffer()));
    }, 'image/png');
  };

  return (
    <div class="signature">
      <canvas
        ref={ref}
        class="signature-pad"
        data-testid="signature-pad"
        data-strokes={strokes}
        role="img"
        aria-label={t('sign.padLabel')}
        onPointerDown={down}
        onPointerMove={move}
        onPointerUp={up}
        onPointerCancel={up}
        onPointerLeave={up}
      />
      <div class="actions">
        <button type="button" class="btn btn-secondary" data-testid="signature-clear" onClick={reset} disabled={props.busy}>
          {t('sign.clear')}
        </button>
        <button type="button" class="btn btn-primary" data-testid="signature-done" onClick={done} disabled={props.busy || strokes === 0}>
          {t('sign.done')}
        </button>
      </div>
    </div>
  );
}

// ------------------------------------------------------------- map

export function TrailMap(props: { unit: UnitProject | null; layers: (MapLayer & { label: string })[] }) {
  const { t } = useApp();
  const W = 360;
  const H = 260;
  const m = buildMap(props.unit, props.layers, W, H);
  const hasFix = m.points.length > 0;
  return (
    <figure class="map" data-testid="lab-map" data-points={m.points.length}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t('map.label')} xmlns="http://www.w3.org/2000/svg">
        <rect x="0" y="0" width={W} height={H} class="map-bg" />
        {m.boundary && <path d={m.boundary} class="map-site" fill-rule="evenodd" />}
        {m.points.map((p) => (
          <g key={p.key} class={`map-fix ${p.tone}${p.mock ? ' mock' : ''}`}>
            <circle cx={p.x} cy={p.y} r={p.r} class="acc" />
            <circle cx={p.x} cy={p.y} r={3} class="dot" />
          </g>
        ))}
        <g class="map-scale" transform={`translate(12 ${H - 14})`}>
          <line x1="0" y1="0" x2={m.scaleBar.length} y2="0" />
          <text x="0" y="-4">{`${m.scaleBar.metres} m`}</text>
        </g>
        <text x={W - 14} y="20" class="map-north" text-anchor="middle">{t('map.north')}</text>
      </svg>
      <figcaption>
        {!m.boundary && <div class="small">{t('map.noBoundary')}</div>}
        {!hasFix && <div class="small">{t('map.noFix')}</div>}
        <ul class="legend">
          {props.layers.map((l) => (
            <li key={l.key}>
              <span class={`swatch ${l.tone}`} aria-hidden="true" /> {l.label}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

// ------------------------------------------------------------- summary

/** What has been captured so far in a flow, always visible at the top. */
export function FlowSummary(props: { tag?: ScannedTag | null; unitName?: string | null; face?: Captured | null; gps?: Collected | null; photos?: number }) {
  const { t } = useApp();
  return (
    <div class="summary" aria-label={t('summary.label')}>
      {props.tag && (
        <div class="chip chip-tag" data-testid="tag-scanned" data-code={props.tag.code} data-method={props.tag.read.method}>
          <span class="chip-k">{t('summary.tag')}</span>
          <span class="mono">{props.tag.printed}</span>
          {props.tag.read.method === 'manual' && <span class="chip-note">{t('tag.manualBadge')}</span>}
        </div>
      )}
      {props.unitName && (
        <div class="chip">
          <span class="chip-k">{t('summary.unit')}</span> {props.unitName}
        </div>
      )}
      {props.face && <FaceResult captured={props.face} />}
      {props.gps && (
        <div class="chip">
          <span class="chip-k">{t('summary.gps')}</span> {formatMetres(props.gps.accuracy_m)}
        </div>
      )}
      {props.photos !== undefined && props.photos > 0 && (
        <div class="chip">
          <span class="chip-k">{t('summary.photos')}</span> {props.photos}
        </div>
      )}
    </div>
  );
}

export function Stepper(props: { steps: string[]; current: number }) {
  const { t } = useApp();
  return (
    <ol class="stepper" aria-label={t('steps.label', { n: props.current + 1, total: props.steps.length })}>
      {props.steps.map((s, i) => (
        <li key={s} class={i < props.current ? 'done' : i === props.current ? 'current' : ''} aria-current={i === props.current ? 'step' : undefined}>
          {s}
        </li>
      ))}
    </ol>
  );
}

/** The handshake QR's SVG from the shell, with anything active stripped. */
export function sanitizeSvg(svg: string): string {
  if (typeof DOMParser === 'undefined') return '';
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName.toLowerCase() !== 'svg') return '';
  root.querySelectorAll('script, foreignObject, iframe').forEach((n) => n.remove());
  [root, ...Array.from(root.querySelectorAll('*'))].forEach((el) => {
    for (const a of Array.from(el.attributes)) if (/^on/i.test(a.name) || /javascript:/i.test(a.value)) el.removeAttribute(a.name);
  });
  return new XMLSerializer().serializeToString(root);
}
