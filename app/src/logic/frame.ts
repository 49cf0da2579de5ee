// Frames pushed from the webview camera to the shell (api.cameraPush):
// 4-byte little-endian width, 4-byte little-endian height, then RGBA.

export const FRAME_HEADER = 8;

export function packFrame(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`bad frame size ${width}x${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new Error(`frame has ${rgba.length} bytes, expected ${width * height * 4}`);
  }
  const out = new Uint8Array(FRAME_HEADER + rgba.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, width, true);
  view.setUint32(4, height, true);
  out.set(rgba, FRAME_HEADER);
  return out;
}

/** Fit a video frame into a modest box (default 640x480), keeping its aspect. */
export function fitFrame(videoW: number, videoH: number, maxW = 640, maxH = 480): { width: number; height: number } {
  if (videoW <= 0 || videoH <= 0) return { width: maxW, height: maxH };
  const k = Math.min(1, maxW / videoW, maxH / videoH);
  return { width: Math.max(1, Math.round(videoW * k)), height: Math.max(1, Math.round(videoH * k)) };
}

/** Delay before the next frame so frames go out at about `fps`. */
export function nextDelay(elapsedMs: number, fps = 8): number {
  return Math.max(0, Math.round(1000 / fps - elapsedMs));
}
