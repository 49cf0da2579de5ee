// The console's signing device (R12, R13; R2, R4, R5, R19): this browser,
// enrolled like a phone with a one-time enrollment offer, signs the lab's
// reviews, reports and revocations, and the plans, approvals, contracts and
// pre-start checks of the people who answer for them, itself. The key is
// made here by WebCrypto as Ed25519, non-extractable, and kept in
// IndexedDB: it never leaves the browser, the
// server never holds it, and a record the browser signs is the person's
// word exactly as a phone's is. Everything the server checks is the same as
// for a phone: canonical bytes (RFC 8785 restricted to integers, as
// custody_core::canonical), the record id (SHA-256 of the body), the
// signature over `jzqy/record/v1 ‖ 0 ‖ id`, a fresh time anchor, the chain
// (seq, prev) and signed requests. One chain per browser profile; Web Locks
// keep two tabs from signing the same place in it (an equivocation).
//
// WebCrypto's Ed25519 needs a secure context: HTTPS, or localhost.
(() => {
  'use strict';
  const DB = 'jzqy-signer';
  const STORE = 'device';
  const REQUEST = 'jzqy/device-request/v1';
  const RECORD = 'jzqy/record/v1';
  const enc = new TextEncoder();
  const BOOT = 'browser-' + crypto.randomUUID();
  const mono = () => Math.floor(performance.now());
  let offset = 0; // server clock minus ours, from the latest anchor

  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
  const b64u = (buf) => {
    let s = '';
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const unb64u = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

  /** RFC 8785 for the integer-only values records carry. */
  function canon(v) {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error('not an integer: ' + v);
      return String(v);
    }
    if (typeof v === 'string') return JSON.stringify(v);
    if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
    // Sorted by UTF-16 code units: what Array.prototype.sort does.
    const keys = Object.keys(v).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  }

  const withDomain = (domain, msg) => {
    const d = enc.encode(domain);
    const out = new Uint8Array(d.length + 1 + msg.length);
    out.set(d, 0);
    out.set(msg, d.length + 1);
    return out;
  };
  const sign = async (key, domain, msg) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, withDomain(domain, msg)));
  const sha256 = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));

  // ------------------------------------------------------------ storage

  function db() {
    return new Promise((resolve, reject) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }
  async function load() {
    const d = await db();
    return new Promise((resolve, reject) => {
      const q = d.transaction(STORE).objectStore(STORE).get('device');
      q.onsuccess = () => resolve(q.result || null);
      q.onerror = () => reject(q.error);
    });
  }
  async function save(dev) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const t = d.transaction(STORE, 'readwrite');
      t.objectStore(STORE).put(dev, 'device');
      t.oncomplete = () => resolve();
      t.onerror = () => reject(t.error);
    });
  }

  // ------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, body) {
      const zh = document.documentElement.lang !== 'en';
      super((body && (zh ? body.message_zh : body.message_en)) || `HTTP ${status}`);
      this.status = status;
      this.code = body && body.code;
    }
  }
  async function answer(r) {
    const text = await r.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
    if (!r.ok) throw new ApiError(r.status, body);
    return body;
  }

  /** A request signed by the device (method, path, body hash, time, nonce). */
  async function call(dev, method, path, bytes, headers = {}) {
    bytes = bytes || new Uint8Array();
    const ts = Date.now() + offset;
    const nonce = hex(crypto.getRandomValues(new Uint8Array(16)));
    const auth = { method, path, body_sha256: await sha256(bytes), ts, nonce };
    const sig = await sign(dev.key, REQUEST, enc.encode(canon(auth)));
    const h = { 'x-jzqy-device': dev.pub, 'x-jzqy-ts': String(ts), 'x-jzqy-nonce': nonce, 'x-jzqy-sig': b64u(sig), ...headers };
    if (method !== 'GET' && !h['content-type']) h['content-type'] = 'application/json';
    return answer(await fetch(path, { method, headers: h, body: method === 'GET' ? undefined : bytes }));
  }

  const tail = (dev) => (dev.seq > 0 ? { seq: dev.seq - 1, id: dev.prev } : null);

  /** A time anchor for this page's clock, signed by the server now. */
  async function anchor(dev) {
    const state = { boot_id: BOOT, mono_ms: mono(), tail: tail(dev) };
    const got = await call(dev, 'POST', '/v1/time', enc.encode(canon(state)));
    offset = got.anchor.body.server_ms - Date.now();
    return { anchor: got.anchor, received_mono_ms: mono() };
  }

  /** Enrol this browser with a one-time enrollment offer (or its code). */
  async function enroll(offerOrCode, label) {
    let code = offerOrCode.trim();
    if (code.startsWith('JZQY-ENROLL:')) {
      code = JSON.parse(new TextDecoder().decode(unb64u(code.slice('JZQY-ENROLL:'.length)))).code;
    }
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const pub = b64u(await crypto.subtle.exportKey('raw', pair.publicKey));
    const proof = b64u(await sign(pair.privateKey, REQUEST, enc.encode(code)));
    const req = { code, device: pub, label, platform: 'browser', boot_id: BOOT, mono_ms: mono(), proof };
    const got = await answer(await fetch('/v1/enroll', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req),
    }));
    offset = got.anchor.body.server_ms - Date.now();
    const dev = {
      key: pair.privateKey, pub, person: got.profile.person.id, name: got.profile.person.name,
      org: got.profile.org.id, seq: 0, prev: null, outbox: [],
    };
    await save(dev);
    return dev;
  }

  /** Upload what was signed and not yet acknowledged, in chain order. */
  async function flush(dev) {
    while (dev.outbox.length) {
      const batch = dev.outbox.slice(0, 20);
      const last = batch[batch.length - 1];
      const state = { boot_id: BOOT, mono_ms: mono(), tail: { seq: last.seq, id: last.id } };
      const body = '{"records":[' + batch.map((r) => r.envelope).join(',') + '],"state":' + canon(state) + '}';
      const got = await call(dev, 'POST', '/v1/records', enc.encode(body));
      dev.outbox = dev.outbox.slice(batch.length);
      await save(dev);
      for (const r of got.results) {
        if (r.status !== 'accepted') {
          const f = (r.findings || [])[0];
          const zh = document.documentElement.lang !== 'en';
          throw new Error(f ? (zh ? f.message_zh : f.message_en) : r.status);
        }
      }
      dev.last_results = got.results;
    }
  }

  /** Sign `payload` (with `media` in its evidence) as the next record of the chain, then upload it. */
  async function record(payload, media = []) {
    return navigator.locks.request('jzqy-signer', async () => {
      const dev = await load();
      if (!dev) throw new Error(document.documentElement.lang !== 'en' ? '本浏览器尚未登记为签名设备' : 'this browser is not enrolled as a signing device');
      await flush(dev);
      const held = await anchor(dev);
      const body = {
        v: 1, device: dev.pub, author: dev.person, seq: dev.seq, prev: dev.prev, payload,
        evidence: { media, fixes: [], time: { wall_ms: Date.now(), boot_id: BOOT, mono_ms: mono(), anchor: held } },
      };
      const bytes = enc.encode(canon(body));
      const id = await sha256(bytes);
      const sig = b64u(await sign(dev.key, RECORD, unhex(id)));
      // The chain moves on and the record is kept before it is sent: a
      // crash now leaves it in the outbox, never a second record at its place.
      dev.outbox.push({ id, seq: dev.seq, envelope: canon({ body, cosigs: [], sig }) });
      dev.seq += 1;
      dev.prev = id;
      await save(dev);
      await flush(dev);
      return id;
    });
  }

  /** Upload a file the last record named (resumable: the server says how much it has). */
  async function uploadMedia(sha, bytes) {
    const dev = await load();
    const status = await call(dev, 'GET', `/v1/media/${sha}`, null);
    let at = status.received || 0;
    const CHUNK = 256 * 1024;
    while (at < bytes.length) {
      const part = bytes.subarray(at, Math.min(at + CHUNK, bytes.length));
      const got = await call(dev, 'PATCH', `/v1/media/${sha}`, part, {
        'content-type': 'application/octet-stream', 'upload-offset': String(at), 'upload-length': String(bytes.length),
      });
      at = got.received != null ? got.received : at + part.length;
    }
  }

  // ------------------------------------------------------------ the pages

  const t = (zh, en) => (document.documentElement.lang === 'en' ? en : zh);
  const say = (el, text, ok) => {
    if (!el) return;
    el.textContent = text;
    el.dataset.ok = ok ? 'true' : 'false';
  };

  async function showDevice(panel) {
    const status = panel.querySelector('[data-testid="signer-status"]');
    if (!window.isSecureContext || !crypto.subtle) {
      say(status, t('签名需要 HTTPS 连接（或本机 localhost）。', 'Signing needs an HTTPS connection (or localhost).'), false);
      panel.dataset.state = 'insecure';
      return null;
    }
    const dev = await load();
    panel.dataset.state = dev ? 'enrolled' : 'none';
    if (dev) {
      say(status, t(`本浏览器已登记为 ${dev.name} 的签名设备（密钥 ${dev.pub.slice(0, 8)}…，已签 ${dev.seq} 条）。`,
        `This browser signs for ${dev.name} (key ${dev.pub.slice(0, 8)}…, ${dev.seq} signed).`), true);
      if (panel.dataset.person && dev.person !== panel.dataset.person) {
        say(status, t(`本浏览器登记的是 ${dev.name}，不是当前登录的人员：不能代签。`,
          `This browser is enrolled for ${dev.name}, not for the person signed in: it will not sign for them.`), false);
        panel.dataset.state = 'other-person';
        return null;
      }
    } else {
      say(status, t('本浏览器尚未登记为签名设备：请向系统管理员取得登记码。', 'This browser is not a signing device yet: ask an administrator for an enrollment code.'), false);
    }
    return dev;
  }

  async function guarded(out, work) {
    say(out, t('签名并上传中…', 'Signing and uploading…'), true);
    try {
      await work();
    } catch (e) {
      say(out, e.message || String(e), false);
      return false;
    }
    return true;
  }

  document.addEventListener('DOMContentLoaded', async () => {
    const panel = document.querySelector('[data-testid="signer"]');
    if (!panel) return;
    const dev = await showDevice(panel);
    const out = document.querySelector('[data-testid="signer-result"]');
    const enrolForm = document.querySelector('[data-testid="signer-enroll"]');
    if (enrolForm) {
      enrolForm.hidden = !!dev;
      enrolForm.addEventListener('submit', async (e) => {
        e.preventDefault();
        const code = enrolForm.querySelector('[name="offer"]').value;
        const label = t('控制台浏览器', 'console browser') + ' ' + navigator.platform;
        if (await guarded(out, () => enroll(code, label))) location.reload();
      });
    }
    if (!dev || panel.dataset.state !== 'enrolled') return;
    for (const form of document.querySelectorAll('form[data-sign]')) {
      form.hidden = false;
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const d = form.dataset;
        const v = (n) => { const el = form.querySelector(`[name="${n}"]`); return el ? el.value.trim() : ''; };
        if (d.sign === 'seal') {
          // The report's QR from the system, asked as this device (R13).
          await guarded(out, async () => {
            const dev = await load();
            const got = await call(dev, 'GET', `/v1/lab/reports/${d.report}/seal`, null);
            const a = document.createElement('a');
            a.href = got.qr;
            a.textContent = got.qr;
            a.dataset.testid = 'seal-link';
            form.replaceChildren(a);
            say(out, t('系统已签发报告二维码。', 'The system issued the report QR.'), true);
          });
          return;
        }
        const ok = await guarded(out, async () => {
          if (d.sign === 'draft') {
            // A plan form (issue 15): the server reads it and runs the rules
            // the record will be judged by; what it answers is signed here.
            const fields = new URLSearchParams(new FormData(form));
            if (e.submitter && e.submitter.name) fields.set(e.submitter.name, e.submitter.value);
            const r = await fetch(form.action, {
              method: 'POST', credentials: 'same-origin', body: fields,
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            });
            const got = await r.json().catch(() => ({ errors: [{ zh: '服务器没有回答', en: 'the server did not answer' }] }));
            if (!r.ok) throw new Error((got.errors || []).map((x) => t(x.zh, x.en)).join('\n'));
            await record(got.payload);
          } else if (d.sign === 'review') {
            const approved = e.submitter && e.submitter.value === 'approve';
            if (!approved && !v('note')) throw new Error(t('退回须写明原因', 'say why it is returned'));
            await record({ kind: 'test_reviewed', data: { test_data: d.test, tag: d.tag, approved, note: v('note') } });
          } else if (d.sign === 'revoke') {
            await record({ kind: 'report_revoked', data: { report: d.report, tags: d.tags.split(','), reason: v('reason') } });
          } else if (d.sign === 'report') {
            const file = form.querySelector('[name="document"]').files[0];
            if (!file) throw new Error(t('请选择报告文件', 'choose the report document'));
            const bytes = new Uint8Array(await file.arrayBuffer());
            const sha = await sha256(bytes);
            const media = [{ sha256: sha, size: bytes.length, media_type: file.type || 'application/pdf', purpose: 'report_document', captured_mono_ms: null }];
            await record({ kind: 'report', data: {
              report_no: v('report_no'), tags: d.tags.split(','), conclusion: v('conclusion'), document: sha, amends: d.amends || null,
            } }, media);
            await uploadMedia(sha, bytes);
          }
        });
        if (ok) location.reload();
      });
    }
  });

  window.jzqySigner = { canon, enroll, record, load };
})();
