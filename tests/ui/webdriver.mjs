// A small W3C WebDriver client: exactly the commands the UI tests use, over
// Node's fetch, so the suite needs no npm packages. Every call is bounded by a
// timeout: a hung driver fails a test instead of hanging CI.

const CALL_TIMEOUT_MS = 60_000;

export class WebDriverError extends Error {
  constructor(method, path, status, value) {
    super(`${method} ${path} → ${status} ${value?.error ?? ''}: ${value?.message ?? JSON.stringify(value)}`);
    this.error = value?.error;
  }
}

async function call(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(method, path, res.status, { error: 'bad json', message: text.slice(0, 300) });
  }
  if (!res.ok || (json.value && json.value.error)) throw new WebDriverError(method, path, res.status, json.value);
  return json.value;
}

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function until(what, probe, timeoutMs = 20_000, everyMs = 150) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

export class Session {
  /** Opens a session: the driver starts the app. */
  static async start(base, capabilities) {
    const v = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, v.sessionId);
  }

  constructor(base, id) {
    this.base = base;
    this.id = id;
    /** Clicks and key entries made through this session: the "taps" of a flow. */
    this.taps = 0;
    /** What was typed: user text, which a screen may show back (tests/ui/glyphs.mjs). */
    this.typed = [];
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async exec(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** First element with this data-testid (optionally more CSS), or null. */
  async find(testid, extra = '') {
    const els = await this.cmd('POST', '/elements', { using: 'css selector', value: `[data-testid="${testid}"]${extra}` });
    return els.length ? els[0][ELEMENT] : null;
  }

  async findAll(testid, extra = '') {
    const els = await this.cmd('POST', '/elements', { using: 'css selector', value: `[data-testid="${testid}"]${extra}` });
    return els.map((e) => e[ELEMENT]);
  }

  /** Waits for an element that is there and enabled. */
  async waitFor(testid, { extra = '', timeoutMs = 20_000, enabled = true } = {}) {
    return until(`[data-testid="${testid}"]${extra}`, async () => {
      const el = await this.find(testid, extra);
      if (!el) return null;
      if (enabled && !(await this.cmd('GET', `/element/${el}/enabled`))) return null;
      return el;
    }, timeoutMs);
  }

  async has(testid, extra = '') {
    return (await this.find(testid, extra)) !== null;
  }

  async click(testid, opts = {}) {
    const el = await this.waitFor(testid, opts);
    await this.cmd('POST', `/element/${el}/click`, {});
    this.taps += 1;
    return el;
  }

  /** Clears the field and types `text` (one tap for focusing the field). */
  async type(testid, text, opts = {}) {
    const el = await this.waitFor(testid, opts);
    await this.cmd('POST', `/element/${el}/clear`, {});
    await this.cmd('POST', `/element/${el}/value`, { text });
    this.typed.push(text);
    this.taps += 1;
    return el;
  }

  async select(testid, value) {
    const el = await this.waitFor(testid);
    await this.exec(
      `const s = arguments[0]; s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));`,
      { [ELEMENT]: el },
      value,
    );
    this.taps += 1;
  }

  async attr(testid, name, extra = '') {
    const el = await this.find(testid, extra);
    return el ? this.cmd('GET', `/element/${el}/attribute/${name}`) : null;
  }

  async text(testid, extra = '') {
    const el = await this.find(testid, extra);
    return el ? this.cmd('GET', `/element/${el}/text`) : null;
  }

  /** A pen stroke across an element (the handwritten signature). */
  async draw(testid) {
    const el = await this.waitFor(testid);
    const origin = { [ELEMENT]: el };
    const moves = [
      { type: 'pointerMove', duration: 0, origin, x: -80, y: 10 },
      { type: 'pointerDown', button: 0 },
    ];
    for (let i = 1; i <= 8; i++) moves.push({ type: 'pointerMove', duration: 30, origin, x: -80 + i * 20, y: 10 - (i % 2) * 25 });
    moves.push({ type: 'pointerUp', button: 0 });
    await this.cmd('POST', '/actions', { actions: [{ type: 'pointer', id: 'pen', parameters: { pointerType: 'mouse' }, actions: moves }] });
    await this.cmd('DELETE', '/actions');
    this.taps += 1;
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  async close() {
    try {
      await this.cmd('DELETE', '');
    } catch {
      // The app may already be gone; the driver cleans up either way.
    }
  }
}

export async function driverReady(base, timeoutMs = 30_000) {
  await until(`WebDriver at ${base}`, async () => {
    const v = await call(base, 'GET', '/status');
    return v && (v.ready === undefined || v.ready === true || v.ready === false);
  }, timeoutMs, 200);
}
