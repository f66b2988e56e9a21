// The Ritma evidence viewer: one page, vanilla JS, everything from the read-only /api.
// Inclusion proofs are recomputed here with WebCrypto (SHA-256, RFC 9162 §2.1.3.2); the
// server separately checks the signatures (seal::verify_event_proof) and says so.
'use strict';

const state = { summary: null, windows: [], range: null, types: new Set() };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch (_) { /* not JSON */ }
  if (!res.ok) throw new Error((body && body.error) || `${path}: HTTP ${res.status}`);
  return body;
}

const nsToIso = (ns) => new Date(Number(ns) / 1e6).toISOString();
const minuteOf = (ns) => Math.floor(Number(ns) / 60e9) * 60;  // Unix seconds of the minute

// ---- bytes, CBOR, SHA-256

function hexToBytes(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex))
    throw new Error('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}
const bytesToHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}
async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}
const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
const equalBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// A small strict-enough CBOR reader (integers as BigInt, byte strings as Uint8Array).
function cborDecode(bytes) {
  let pos = 0;
  const need = (n) => { if (pos + n > bytes.length) throw new Error('CBOR: truncated'); };
  function head() {
    need(1);
    const ib = bytes[pos++];
    const major = ib >> 5, ai = ib & 31;
    let v;
    if (ai < 24) v = BigInt(ai);
    else if (ai <= 27) {
      const n = 1 << (ai - 24);
      need(n);
      v = 0n;
      for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[pos++]);
    } else throw new Error('CBOR: indefinite or reserved length');
    return [major, v, ai];
  }
  function item(depth) {
    if (depth > 64) throw new Error('CBOR: too deep');
    const [major, v, ai] = head();
    switch (major) {
      case 0: return v;
      case 1: return -1n - v;
      case 2: { const n = Number(v); need(n); const b = bytes.slice(pos, pos + n); pos += n; return b; }
      case 3: { const n = Number(v); need(n); const t = new TextDecoder('utf-8', { fatal: true }).decode(bytes.slice(pos, pos + n)); pos += n; return t; }
      case 4: { const a = []; for (let i = 0n; i < v; i++) a.push(item(depth + 1)); return a; }
      case 5: { const m = []; for (let i = 0n; i < v; i++) m.push([item(depth + 1), item(depth + 1)]); return m; }
      case 7: if (ai === 20) return false; if (ai === 21) return true; if (ai === 22) return null;
      // fallthrough
      default: throw new Error('CBOR: unsupported item');
    }
  }
  const value = item(0);
  if (pos !== bytes.length) throw new Error('CBOR: trailing bytes');
  return value;
}

// RFC 9162 §2.1.3.2: the root from a leaf hash, its index, the tree size and the path.
async function rootFromPath(leaf, index, size, path) {
  let fn = BigInt(index), sn = BigInt(size) - 1n;
  if (fn > sn) throw new Error(`index ${index} is not below the tree size ${size}`);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new Error('the path is longer than the tree needs');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n; sn >>= 1n;
  }
  if (sn !== 0n) throw new Error('the path is shorter than the tree needs');
  return r;
}

function base64ToBytes(s) {
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// Everything the page itself checks of a proof; each step is reported, the first failure throws.
async function verifyInBrowser(p, step) {
  if (!window.crypto || !crypto.subtle)
    throw new Error('WebCrypto is not available here (not a secure context: open the viewer ' +
                    'through http://127.0.0.1 or http://localhost)');
  const atom = hexToBytes(p.atom);
  const atomItem = cborDecode(atom);
  if (!Array.isArray(atomItem) || atomItem[0] !== 'ritma-ev@1') throw new Error('the atom is no ritma-ev@1');
  if (atomItem[2] !== BigInt(p.seq)) throw new Error(`the atom's seq ${atomItem[2]} is not ${p.seq}`);
  step(`atom decodes: ritma-ev@1, seq ${p.seq}`);
  const micro = hexToBytes(p.micro);
  const m = cborDecode(micro);
  if (!Array.isArray(m) || m[0] !== 'ritma-micro@1' || m.length !== 19) throw new Error('the micro record is no ritma-micro@1');
  const microRoot = m[13], logIndex = m[3], firstSeq = m[7], eventCount = m[8];
  if (logIndex !== BigInt(p.log_index)) throw new Error('the micro record names another log index');
  if (eventCount !== BigInt(p.leaf_count)) throw new Error('the micro record names another event count');
  if (firstSeq + BigInt(p.leaf_index) !== BigInt(p.seq)) throw new Error('first_seq + leaf_index is not the seq');
  step(`micro record: log index ${logIndex}, ${eventCount} events from seq ${firstSeq}, micro_root ${bytesToHex(microRoot)}`);
  const leaf = await leafHash(atom);
  step(`leaf = SHA-256(0x00 ‖ atom) = ${bytesToHex(leaf)}`);
  const root1 = await rootFromPath(leaf, p.leaf_index, p.leaf_count, p.event_path.map(hexToBytes));
  if (!equalBytes(root1, microRoot))
    throw new Error(`event path gives ${bytesToHex(root1)}, the micro record says ${bytesToHex(microRoot)}`);
  step(`event path (${p.event_path.length} hashes, leaf ${p.leaf_index} of ${p.leaf_count}) reaches the micro root`);
  const cp = p.checkpoint;
  const split = cp.lastIndexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint is no signed note');
  const lines = cp.slice(0, split).split('\n');
  if (lines.length < 3) throw new Error('the checkpoint body is too short');
  const cpSize = BigInt(lines[1]), cpRoot = base64ToBytes(lines[2]);
  if (cpSize !== BigInt(p.log_size)) throw new Error(`the checkpoint's size ${cpSize} is not the proof's ${p.log_size}`);
  const leaf2 = await leafHash(micro);
  step(`window-log leaf = SHA-256(0x00 ‖ micro record) = ${bytesToHex(leaf2)}`);
  const root2 = await rootFromPath(leaf2, p.log_index, p.log_size, p.log_path.map(hexToBytes));
  if (!equalBytes(root2, cpRoot))
    throw new Error(`window-log path gives ${bytesToHex(root2)}, the checkpoint says ${bytesToHex(cpRoot)}`);
  step(`window-log path (${p.log_path.length} hashes, record ${p.log_index} of ${p.log_size}) reaches the checkpoint root ${bytesToHex(cpRoot)} (${lines[0]})`);
}

// ---- summary and timeline

function renderSummary(s) {
  const src = s.source;
  $('summary').textContent =
    `${src.kind} ${src.path} · node ${s.store.node_id} · ${s.windows} windows ` +
    `(${s.sealed_windows} sealed, ${s.unsealed_windows} not sealed) · ${s.events} events · ` +
    `newest checkpoint size ${s.checkpoint.size}`;
  $('summary').dataset.windows = s.windows;
  $('summary').dataset.kind = src.kind;
}

function renderTimeline() {
  const tl = $('timeline');
  tl.textContent = '';
  const minutes = new Map();
  for (const w of state.windows) {
    const m = minuteOf(w.slot_start_ns);
    if (!minutes.has(m)) minutes.set(m, []);
    minutes.get(m).push(w);
  }
  for (const [m, ws] of [...minutes.entries()].sort((a, b) => a[0] - b[0])) {
    const events = ws.reduce((n, w) => n + w.event_count, 0);
    const box = el('div', { class: 'minute', 'data-testid': 'timeline-minute', 'data-minute': m,
                            title: `${new Date(m * 1000).toISOString()}: ${ws.length} windows, ${events} events` });
    box.append(el('span', { class: 'label', text: `${new Date(m * 1000).toISOString().slice(11, 16)} · ${events} ev` }));
    for (const w of ws) {
      const cls = ['cell', !w.sealed ? 'unsealed' : w.has_blocks ? 'sealed' : 'context'];
      if (w.event_count === 0) cls.push('empty');
      box.append(el('span', {
        class: cls.join(' '), 'data-testid': 'timeline-window', 'data-log-index': w.log_index,
        'data-sealed': w.sealed, title: `${w.stem_path} (log index ${w.log_index}): ${w.event_count} events, ` +
          `${w.sealed ? 'sealed' : 'NOT sealed yet'}${w.has_blocks ? '' : ', no events in this bundle'}` }));
    }
    box.addEventListener('click', () => selectMinute(m, box));
    tl.append(box);
  }
  tl.dataset.windows = state.windows.length;
}

function selectMinute(m, box) {
  const same = state.range && state.range.from === m;
  document.querySelectorAll('.minute.selected').forEach((b) => b.classList.remove('selected'));
  if (same) state.range = null;
  else { state.range = { from: m, to: m + 60 }; box.classList.add('selected'); }
  $('selection').textContent = state.range
    ? `range: ${new Date(m * 1000).toISOString()} – ${new Date((m + 60) * 1000).toISOString()}`
    : 'range: everything';
  loadEvents();
  loadTree();
}

function rangeParams() {
  const p = new URLSearchParams();
  if (state.range) { p.set('from', state.range.from); p.set('to', state.range.to); }
  return p;
}

// ---- events and process tree

function describe(e) {
  if (e.type === 'exec' && e.argv && e.argv.length) return `${e.path} · ${e.argv.join(' ')}`;
  return [e.path, e.path2 && `→ ${e.path2}`, e.addr, e.dns_name, e.count ? `count ${e.count}` : '']
    .filter(Boolean).join(' ');
}

async function loadEvents() {
  const p = rangeParams();
  const type = $('filter-type').value, pid = $('filter-pid').value.trim(), q = $('filter-q').value;
  if (type) p.set('type', type);
  if (pid) p.set('pid', pid);
  if (q) p.set('q', q);
  p.set('limit', '2000');
  const status = $('events-status');
  status.textContent = 'loading…';
  const tbody = $('events').querySelector('tbody');
  try {
    const r = await api(`/api/events?${p}`);
    tbody.textContent = '';
    for (const e of r.events) {
      if (!state.types.has(e.type)) { state.types.add(e.type); $('filter-type').append(el('option', { value: e.type, text: e.type })); }
      const tr = el('tr', { 'data-testid': 'event-row', 'data-log-index': e.log_index,
                            'data-leaf-index': e.leaf_index, 'data-type': e.type, 'data-seq': e.seq },
        el('td', { text: e.seq }), el('td', { text: nsToIso(e.wall_ns) }), el('td', { text: e.type }),
        el('td', { text: e.pid }), el('td', { text: e.comm }), el('td', { class: 'detail', text: describe(e) }),
        el('td', { text: `${e.log_index}/${e.leaf_index}` }));
      tr.addEventListener('click', () => openDetail(e));
      tbody.append(tr);
    }
    status.textContent = `${r.events.length} event(s)${r.truncated ? ` (first ${r.limit}; narrow the filters)` : ''}`;
    status.dataset.count = r.events.length;
  } catch (err) {
    status.textContent = `cannot load events: ${err.message}`;
  }
}

async function loadTree() {
  const p = rangeParams();
  p.set('type', 'exec,fork,exit');
  p.set('limit', '20000');
  const tree = $('tree');
  try {
    const r = await api(`/api/events?${p}`);
    const procs = new Map();
    for (const e of r.events) {
      const pr = procs.get(e.pid) || { pid: e.pid, ppid: e.ppid, comm: e.comm, exe: '', children: [] };
      if (e.type === 'exec') { pr.exe = e.path; pr.comm = e.comm; }
      if (e.type !== 'fork' || !procs.has(e.pid)) pr.ppid = pr.ppid || e.ppid;
      procs.set(e.pid, pr);
      if (e.type === 'fork' && e.arg0 && !procs.has(Number(e.arg0)))
        procs.set(Number(e.arg0), { pid: Number(e.arg0), ppid: e.pid, comm: e.comm, exe: '', children: [] });
    }
    const roots = [];
    for (const pr of procs.values()) {
      const parent = procs.get(pr.ppid);
      if (parent && parent !== pr) parent.children.push(pr); else roots.push(pr);
    }
    const render = (list, depth) => {
      const ul = el('ul');
      for (const pr of list.sort((a, b) => a.pid - b.pid)) {
        const pid = el('span', { class: 'pid', text: pr.pid, title: 'show this pid\'s events' });
        pid.addEventListener('click', () => { $('filter-pid').value = pr.pid; loadEvents(); });
        const li = el('li', { 'data-testid': 'tree-process', 'data-pid': pr.pid }, pid, ` ${pr.comm}${pr.exe ? ` ${pr.exe}` : ''}`);
        if (pr.children.length && depth < 64) li.append(render(pr.children, depth + 1));
        ul.append(li);
      }
      return ul;
    };
    tree.textContent = '';
    tree.append(procs.size ? render(roots, 0) : el('p', { text: 'no exec/fork/exit events in the range' }));
  } catch (err) {
    tree.textContent = `cannot build the tree: ${err.message}`;
  }
}

// ---- one event and its proof

async function openDetail(e) {
  const detail = $('detail');
  detail.hidden = false;
  $('detail-title').textContent = `seq ${e.seq} (${e.type}, window ${e.log_index}, leaf ${e.leaf_index})`;
  $('detail-json').textContent = JSON.stringify(e, null, 2);
  const status = $('proof-status'), steps = $('proof-steps'), server = $('server-status');
  status.className = 'pending';
  status.dataset.verified = 'pending';
  status.textContent = 'checking the inclusion proof…';
  steps.textContent = '';
  server.textContent = '';
  detail.scrollIntoView({ block: 'nearest' });
  let p;
  try {
    p = await api(`/api/event/${e.log_index}/${e.leaf_index}/proof`);
  } catch (err) {
    status.className = 'fail';
    status.dataset.verified = 'false';
    status.textContent = `no inclusion proof: ${err.message}`;
    return;
  }
  const sv = p.server_verification;
  server.textContent = sv.ok
    ? `server (seal::verify_event_proof): micro-record and checkpoint signatures verify (key ${sv.key_name} ${sv.key_fingerprint}); ${sv.result}`
    : `server (seal::verify_event_proof): FAILED: ${sv.error}`;
  server.dataset.ok = sv.ok;
  try {
    await verifyInBrowser(p, (text) => steps.append(el('li', { class: 'ok', text })));
    status.className = 'ok';
    status.dataset.verified = 'true';
    status.textContent = `inclusion verified in this browser: event seq ${p.seq} is leaf ${p.leaf_index} of window ${p.window}, ` +
      `which is record ${p.log_index} of the checkpoint of size ${p.log_size}` +
      (sv.ok ? '' : ' (but the server could not verify the signatures: see below)');
  } catch (err) {
    steps.append(el('li', { class: 'fail', text: err.message }));
    status.className = 'fail';
    status.dataset.verified = 'false';
    status.textContent = `inclusion proof FAILED in this browser: ${err.message}`;
  }
}

// ---- verification report

function renderReport(r) {
  const box = $('report');
  box.textContent = '';
  box.dataset.ok = r.ok;
  box.append(el('p', { class: r.ok ? 'good' : 'bad', 'data-testid': 'report-result', text: `result: ${r.result}` }));
  if (r.source && r.source.kind === 'bundle')
    box.append(el('p', { text: `bundle ${r.source.path}: range ${nsToIso(r.source.from_ns)} – ${nsToIso(r.source.to_ns)}, ` +
      `${r.source.manifest_files} files in the manifest, ${r.source.events_in_range} events in range, newest checkpoint size ${r.source.newest_size}` }));
  box.append(el('p', { text: `node ${r.node_id}, store ${r.store_id}; ${r.log_records} window-log records, ${r.windows} windows ` +
    `verified (${r.empty_windows} empty), ${r.events} events, ${r.blocks} blocks, ${r.checkpoints} checkpoints` +
    `${r.checkpoints_consistent ? ' (consistent)' : ''}, ${r.hours_closed} hours closed, ${r.lost_records} records lost in the kernel` }));
  const keys = el('ul');
  for (const k of r.keys) keys.append(el('li', { text: `${k.name} ${k.fingerprint}${k.trusted ? ' trusted' : ''}${k.pinned ? ' pinned' : ''}, ${k.signatures} signatures` }));
  box.append(el('h3', { text: 'keys' }), keys);
  if (r.problems.length || r.problems_omitted) {
    const ul = el('ul', { 'data-testid': 'report-problems' });
    for (const p of r.problems) ul.append(el('li', { class: 'problem', text: p.text }));
    if (r.problems_omitted) ul.append(el('li', { text: `… and ${r.problems_omitted} more` }));
    box.append(el('h3', { text: 'problems' }), ul);
  }
  if (r.unsealed.length) {
    const ul = el('ul');
    for (const u of r.unsealed) ul.append(el('li', { text: `${u.kind}: ${u.file || u.window || ''} ${u.message}` }));
    box.append(el('h3', { text: 'unsealed tail (not evidence, not a failure)' }), ul);
  }
  for (const n of r.notes) box.append(el('p', { text: n }));
  const tail = $('unsealed');
  tail.textContent = r.unsealed.length
    ? `unsealed tail: ${r.unsealed.map((u) => `${u.kind} ${u.file || u.window || ''}`).join('; ')}` : '';
  tail.dataset.count = r.unsealed.length;
}

async function loadReport() {
  $('report').textContent = 'verifying… (recomputes every hash and signature)';
  try { renderReport(await api('/api/report')); } catch (err) { $('report').textContent = `cannot verify: ${err.message}`; }
}

function showTab(name) {
  for (const b of document.querySelectorAll('nav button')) b.classList.toggle('active', b.dataset.tab === name);
  $('view-timeline').hidden = name !== 'timeline';
  $('view-report').hidden = name !== 'report';
}

async function main() {
  for (const b of document.querySelectorAll('nav button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('filters').addEventListener('submit', (ev) => { ev.preventDefault(); loadEvents(); });
  $('detail-close').addEventListener('click', () => { $('detail').hidden = true; });
  try {
    const [summary, windows] = await Promise.all([api('/api/summary'), api('/api/windows')]);
    state.summary = summary;
    state.windows = windows.windows;
    renderSummary(summary);
    renderTimeline();
  } catch (err) {
    $('summary').textContent = `cannot load: ${err.message}`;
    return;
  }
  await Promise.all([loadEvents(), loadTree()]);
  document.body.dataset.ready = 'true';
  loadReport();
}

document.addEventListener('DOMContentLoaded', main);
