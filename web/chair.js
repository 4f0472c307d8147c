/*
 * chair.js — the floorbridge chair console (plain JS, no build step; the
 * connection engine is in common.js, shared with the delegate page).
 *
 * Link: chair.html#token=JWT  (a chair's token; [&raw=1] [&relay=1] as on the
 * delegate page). A token whose role is not "chair" is not used at all (joining
 * with it would take over that delegate's own connection): the page says
 * "this console needs a chair token".
 *
 * The chair joins the meeting's audio like anyone (hears the meeting, may speak
 * when they give themselves the floor) and drives the floor with the chair
 * messages of signalling/PROTOCOL.md: grant, end_turn, mute{delegate,on},
 * mute_all, cut{delegate,reason}, allow, queue_move{delegate,position},
 * queue_remove, set_mode, set_session, chat_policy. It draws what the server
 * says (roster, queue, quality, mode, chat, chat_policy, you) and never guesses
 * a state change: a refused action shows the server's error as a toast.
 *
 * Every server-provided string reaches the DOM through textContent (FBCommon.h
 * and setText); nothing is parsed as HTML.
 *
 * For tests: window.floorbridge (see common.js) plus .console = { roster,
 * queue, quality, mode, you, chat, chatPolicy, selected }.
 */
'use strict';
(() => {
  const C = window.FBCommon;
  const { h, setText } = C;
  const $ = (id) => document.getElementById(id);
  const ui = {
    conn: $('conn'), state: $('state'), notice: $('notice'), meeting: $('meeting'),
    sessionName: $('session-name'), modeBadge: $('mode-badge'),
    meName: $('me-name'), meState: $('me-state'), micLevel: $('mic-level'), selfMute: $('self-mute'),
    startAudio: $('start-audio'), retry: $('retry'), helpOpen: $('help-open'), remote: $('remote'),
    main: $('console'), gate: $('gate'), gateTitle: $('gate-title'), gateText: $('gate-text'),
    gateCodeRow: $('gate-code-row'), gateCode: $('gate-code'), gateLinkRow: $('gate-link-row'), gateLink: $('gate-link'),
    gateAction: $('gate-action'),
    partsCount: $('parts-count'), tableWrap: $('table-wrap'), partsBody: $('parts-body'), partsEmpty: $('parts-empty'),
    details: $('details'), detailsWho: $('details-who'), detailsSub: $('details-sub'), detailsAge: $('details-age'),
    detailsEmpty: $('details-empty'), metrics: $('metrics'),
    queueCount: $('queue-count'), queueList: $('queue-list'), queueEmpty: $('queue-empty'), grantNext: $('grant-next'),
    modeInteractive: $('mode-interactive'), modeWebcast: $('mode-webcast'), session: $('session'), muteAll: $('mute-all'),
    chatPolicy: $('chat-policy'), chatLog: $('chat-log'), chatForm: $('chat-form'), chatTo: $('chat-to'),
    chatText: $('chat-text'), chatSend: $('chat-send'),
    toasts: $('toasts'),
    cutDialog: $('cut-dialog'), cutForm: $('cut-form'), cutWho: $('cut-who'), cutReason: $('cut-reason'),
    cutCancel: $('cut-cancel'), cutQuick: $('cut-quick'),
    confirm: $('confirm'), confirmForm: $('confirm-form'), confirmH: $('confirm-h'), confirmText: $('confirm-text'),
    confirmOk: $('confirm-ok'), confirmCancel: $('confirm-cancel'),
    help: $('help'), helpClose: $('help-close'),
  };
  const opts = C.readOptions();

  const QUALITY_FRESH_MS = 3500; // a score older than this is not shown (scores come about once a second)
  const MEASURED = new Set(['live', 'muted', 'barred']); // the states the bridge scores (decodes)
  const TOASTS_MAX = 5, TOAST_MS = 15000, CHAT_KEPT = 300;

  // What the server told us; redrawn from here.
  const model = {
    roster: [],            // [{delegate, name, role, state, connected, flagged, recovered, speaking_ms, bar_reason, at}]
    queue: [],             // [{delegate, name, since_ms, seen}]
    quality: new Map(),    // delegate → {..metrics, at}
    mode: null,            // {mode, session: {index, name}, sessions: [{index, name, mode}]}
    you: null,
    chat: [],
    chatPolicy: null,
    selected: null,        // delegate id
  };

  // ---- connection -----------------------------------------------------------------
  /** Cover the console with a notice (not a chair, refused, replaced).
   * action: {text, run} adds a button that lifts the notice and runs. */
  function gate(title, text, code, link, action) {
    setText(ui.gateTitle, title);
    setText(ui.gateText, text);
    ui.gateCodeRow.hidden = !code;
    setText(ui.gateCode, code || '');
    ui.gateLinkRow.hidden = !link;
    if (link) ui.gateLink.href = link;
    ui.gateAction.hidden = !action;
    ui.gateAction.onclick = action ? () => { ungate(); action.run(); } : null;
    if (action) setText(ui.gateAction, action.text);
    ui.gate.hidden = false;
    document.body.classList.add('gated');
  }
  function ungate() {
    ui.gate.hidden = true;
    document.body.classList.remove('gated');
  }
  function setState(state, text) {
    ui.conn.dataset.state = state;
    setText(ui.state, text);
  }
  function showNotice(text) { setText(ui.notice, text || ''); ui.notice.hidden = !text; }

  const client = C.createClient({
    token: opts.token, relay: opts.relay, raw: opts.raw, audio: ui.remote,
    hooks: {
      state: setState,
      notice: showNotice,
      error: (code, message, title) => {
        if (code === 'replaced') {
          gate('This console was opened elsewhere',
            'The same chair joined from another window or device, so this console has stopped.', code, null,
            { text: 'Rejoin here', run: () => client.retryNow() });
        } else if (title === 'Cannot join:') {
          gate('The console could not join', message || C.ERROR_TEXT[code] || '', code);
        } else {
          toast(code, message || C.ERROR_TEXT[code] || '');
        }
      },
      clearError: () => {},
      buttons: ({ retry }) => { ui.retry.hidden = !retry; if (retry) setText(ui.retry, retry); },
      audioBlocked: (b) => { ui.startAudio.hidden = !b; },
      levels: (rx, mic) => {
        const pct = Math.max(0, Math.min(100, ((mic + 60) / 60) * 100));
        const w = `${pct.toFixed(0)}%`;
        if (ui.micLevel.style.width !== w) ui.micLevel.style.width = w;
      },
      micReady: () => renderMe(),
      micError: showNotice,
      joined: (msg) => {
        if (msg.role !== 'chair') {
          gate('This console needs a chair token',
            `The bridge joined you as ${msg.role === 'observer' ? 'an observer' : `a ${String(msg.role)}`}: the chair console needs a chair token.`,
            null, `index.html${location.hash}`);
          return false;
        }
        setText(ui.meName, msg.name || msg.delegate || 'Chair');
        setText(ui.meeting, msg.meeting || '—');
        return true;
      },
      message: onMessage,
      disconnected: () => { firstYou = true; },
    },
  });
  const fb = client.fb;
  fb.console = model;
  ui.startAudio.addEventListener('click', () => client.resumeAudio());
  ui.retry.addEventListener('click', () => client.retryNow());

  /** Send a chair command; false (and a toast) when not connected. */
  function cmd(obj) {
    if (client.send(obj)) return true;
    toast('offline', 'The console is not connected to the bridge right now.');
    return false;
  }

  // ---- toasts -----------------------------------------------------------------------
  function toast(code, message, kind = 'error') {
    const close = h('button', { type: 'button', className: 'toast-x', 'aria-label': 'Dismiss' }, '×');
    const t = h('div', { className: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { code: code || '' } },
      code ? h('code', { className: 'toast-code' }, code) : null,
      h('span', { className: 'toast-msg' }, message || ''),
      close);
    const remove = () => { clearTimeout(timer); t.remove(); };
    const timer = setTimeout(remove, TOAST_MS);
    close.addEventListener('click', remove);
    ui.toasts.appendChild(t);
    while (ui.toasts.children.length > TOASTS_MAX) ui.toasts.firstElementChild.remove();
  }
  const hint = (text) => toast('', text, 'hint');

  // ---- messages -----------------------------------------------------------------------
  let firstYou = true;
  let sentMute = null;
  function onMessage(msg) {
    const now = performance.now();
    switch (msg.type) {
      case 'roster': {
        if (!Array.isArray(msg.participants)) return;
        // "full": false is a delta: only the entries that changed (merged by
        // delegate id); anything else replaces the whole roster.
        const entries = msg.participants.filter((p) => p && typeof p === 'object' && p.delegate !== undefined).map((p) => ({
          delegate: String(p.delegate), name: String(p.name || p.delegate), role: String(p.role || 'delegate'),
          state: String(p.state || 'listening'), connected: p.connected !== false,
          flagged: !!p.flagged, recovered: !!p.recovered, speaking_ms: Number(p.speaking_ms) || 0,
          bar_reason: p.bar_reason ? String(p.bar_reason) : '', at: now,
          // chair_muted: whether the chair's mute holds them (an older server
          // does not say: then every "muted" is taken as the chair's).
          chair_muted: p.chair_muted !== undefined ? !!p.chair_muted : p.state === 'muted',
          barred_by: p.barred_by ? String(p.barred_by) : '',
        }));
        if (msg.full === false) {
          const byId = new Map(model.roster.map((p, i) => [p.delegate, i]));
          const next = model.roster.slice();
          for (const e of entries) {
            if (byId.has(e.delegate)) next[byId.get(e.delegate)] = e;
            else { byId.set(e.delegate, next.length); next.push(e); }
          }
          model.roster = next;
        } else {
          model.roster = entries;
        }
        renderParticipants();
        renderDetails();
        break;
      }
      case 'queue': {
        if (!Array.isArray(msg.entries)) return;
        const old = new Map(model.queue.map((q) => [q.delegate, q.seen]));
        model.queue = msg.entries.filter((e) => e && e.delegate !== undefined).map((e) => ({
          delegate: String(e.delegate), name: String(e.name || e.delegate), since_ms: Number(e.since_ms),
          seen: old.has(String(e.delegate)) ? old.get(String(e.delegate)) : Date.now(),
        }));
        renderQueue();
        renderParticipants();
        break;
      }
      case 'quality':
        if (!Array.isArray(msg.participants)) return;
        for (const q of msg.participants) {
          if (q && q.delegate !== undefined) model.quality.set(String(q.delegate), Object.assign({}, q, { at: now }));
        }
        renderParticipants();
        renderDetails();
        break;
      case 'mode':
        model.mode = {
          mode: msg.mode === 'webcast' ? 'webcast' : 'interactive',
          session: msg.session && typeof msg.session === 'object' ? msg.session : null,
          sessions: Array.isArray(msg.sessions) ? msg.sessions.filter((x) => x && typeof x === 'object') : [],
        };
        client.setUplink(model.mode.mode !== 'webcast');
        renderMode();
        renderParticipants();
        renderQueue();
        break;
      case 'you':
        model.you = {
          state: String(msg.state || 'listening'), chair_muted: !!msg.chair_muted, self_muted: !!msg.self_muted,
          queue_position: Number(msg.queue_position) || 0, bar_reason: msg.bar_reason ? String(msg.bar_reason) : '',
        };
        if (firstYou) { firstYou = false; if (model.you.self_muted && !client.muted) client.setMuted(true); }
        if (sentMute !== null && model.you.self_muted === sentMute) sentMute = null;
        syncSelfMute();
        renderMe();
        break;
      case 'chat':
        addChat(msg);
        break;
      case 'chat_policy':
        model.chatPolicy = { delegates_to_all: !!msg.delegates_to_all, enabled: msg.enabled !== false };
        ui.chatPolicy.checked = model.chatPolicy.delegates_to_all;
        ui.chatPolicy.disabled = !model.chatPolicy.enabled;
        ui.chatText.disabled = ui.chatSend.disabled = !model.chatPolicy.enabled;
        ui.chatText.placeholder = model.chatPolicy.enabled ? 'Message (/ to focus)' : 'The chat is turned off for this meeting';
        break;
      default:
        break;
    }
  }

  // ---- me (the chair's own audio) --------------------------------------------------------
  function syncSelfMute() {
    const you = model.you;
    if (!you || you.chair_muted) return;
    if ((you.state === 'live' || you.state === 'muted') && you.self_muted !== client.muted && sentMute !== client.muted) {
      sentMute = client.muted;
      client.send({ type: 'mute', on: client.muted });
    }
  }
  function renderMe() {
    const st = model.you ? model.you.state : 'listening';
    ui.meState.dataset.state = st;
    setText(ui.meState, st === 'queued' && model.you.queue_position ? `queued ${C.ordinal(model.you.queue_position)}` : st);
    ui.selfMute.disabled = !client.micTrack() || !!(model.you && model.you.chair_muted);
    ui.selfMute.setAttribute('aria-pressed', String(client.muted));
    setText(ui.selfMute, client.muted ? 'Unmute me' : 'Mute me');
  }
  ui.selfMute.addEventListener('click', () => {
    client.setMuted(!client.muted);
    syncSelfMute();
    renderMe();
  });

  // ---- participants table ------------------------------------------------------------------
  const ROLE_ORDER = { chair: 0, delegate: 1, observer: 2 };
  function sortedRoster() {
    return [...model.roster].sort((a, b) => (ROLE_ORDER[a.role] ?? 1) - (ROLE_ORDER[b.role] ?? 1)
      || a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || a.delegate.localeCompare(b.delegate));
  }
  /** The participant's current score, or null: only while the bridge
   * measures them (on the floor, or barred: the mic check) and recently
   * scored; a score without a MOS (valid: false) is no score. */
  function freshQuality(p) {
    const q = model.quality.get(p.delegate);
    if (!q || !MEASURED.has(p.state) || q.valid === false) return null;
    return performance.now() - q.at < QUALITY_FRESH_MS ? q : null;
  }
  const num = (x) => (x === null || x === undefined || x === '' || !Number.isFinite(Number(x)) ? null : Number(x));
  function mosClass(mos) { return mos >= 4 ? 'good' : mos >= 3 ? 'fair' : 'poor'; }
  function mosBars(mos) { return Math.max(0, Math.min(5, Math.round(((mos - 1) / 3.5) * 5))); }
  function flags(p) {
    // The newer of roster and quality wins (both carry flagged / recovered).
    const q = model.quality.get(p.delegate);
    if (q && q.at > p.at && (q.flagged !== undefined || q.recovered !== undefined)) {
      return { flagged: !!q.flagged, recovered: !!q.recovered };
    }
    return { flagged: p.flagged, recovered: p.recovered };
  }
  function spokenMs(p) {
    const live = p.state === 'live';
    return p.speaking_ms + (live ? performance.now() - p.at : 0);
  }

  const rows = new Map(); // delegate → {tr, cells..., buttons...}
  function makeRow(id) {
    const r = {};
    const act = (name, text, label) => h('button', { type: 'button', className: `act act-${name}`, dataset: { act: name }, 'aria-label': label || text }, text);
    r.name = h('span', { className: 'p-name' });
    r.role = h('span', { className: 'p-role' });
    r.offline = h('span', { className: 'p-offline', hidden: true }, 'offline');
    r.badge = h('span', { className: 'badge' });
    r.reason = h('span', { className: 'p-reason' });
    r.bars = h('span', { className: 'bars', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'), h('i'), h('i'));
    r.mos = h('span', { className: 'mos' });
    r.flag = h('span', { className: 'flag', title: 'Flagged: quality below the threshold', 'aria-label': 'flagged', hidden: true }, '⚠');
    r.rec = h('span', { className: 'recovered', title: 'Recovered: the mic check is good again', 'aria-label': 'recovered', hidden: true }, '✓');
    r.time = h('td', { className: 'c-time' });
    r.floorBtn = act('grant', 'Give floor');
    r.muteBtn = act('mute', 'Mute');
    r.cutBtn = act('cut', 'Cut…');
    r.tr = h('tr', { dataset: { delegate: id }, 'aria-selected': 'false' },
      h('td', { className: 'c-name' }, r.name, r.role, r.offline),
      h('td', { className: 'c-state' }, r.badge, r.reason),
      h('td', { className: 'c-q' }, h('span', { className: 'q' }, r.bars, r.mos, r.flag, r.rec)),
      r.time,
      h('td', { className: 'c-act' }, r.floorBtn, r.muteBtn, r.cutBtn));
    r.tr.addEventListener('click', (ev) => {
      const b = ev.target.closest('button');
      if (b && b.dataset.act) { select(id); rowAction(id, b.dataset.act); return; }
      select(model.selected === id ? null : id);
    });
    return r;
  }
  function setBtn(b, act, text, enabled, visible = true) {
    b.dataset.act = act;
    b.className = `act act-${act}`;
    setText(b, text);
    b.disabled = !enabled;
    b.hidden = !visible;
  }

  function renderParticipants() {
    const list = sortedRoster();
    const webcast = model.mode && model.mode.mode === 'webcast';
    const seen = new Set();
    let prev = null;
    for (const p of list) {
      seen.add(p.delegate);
      let r = rows.get(p.delegate);
      if (!r) { r = makeRow(p.delegate); rows.set(p.delegate, r); }
      // order: keep rows in sortedRoster order without rebuilding
      const want = prev ? prev.nextSibling : ui.partsBody.firstChild;
      if (want !== r.tr) ui.partsBody.insertBefore(r.tr, want);
      prev = r.tr;

      const observer = p.role === 'observer';
      const st = observer ? 'observer' : p.state;
      r.tr.dataset.state = st;
      r.tr.classList.toggle('offline', !p.connected);
      r.tr.setAttribute('aria-selected', String(model.selected === p.delegate));
      setText(r.name, p.name);
      r.name.title = `${p.name} (${p.delegate})`;
      setText(r.role, p.role === 'delegate' ? '' : p.role);
      r.role.hidden = p.role === 'delegate';
      r.offline.hidden = p.connected;
      r.badge.dataset.state = st;
      let label = st;
      if (st === 'muted' && !p.chair_muted) label = 'muted (self)';
      if (st === 'queued') {
        const i = model.queue.findIndex((q) => q.delegate === p.delegate);
        if (i >= 0) label = `queued ${i + 1}`;
      }
      setText(r.badge, label);
      setText(r.reason, p.state === 'barred' && p.bar_reason ? p.bar_reason : '');
      r.reason.title = p.bar_reason || '';

      const q = freshQuality(p);
      const mos = q ? num(q.mos) : null;
      const f = flags(p);
      if (mos !== null) {
        const cls = mosClass(mos);
        r.bars.dataset.level = String(mosBars(mos));
        r.bars.dataset.q = cls;
        r.mos.dataset.q = cls;
        setText(r.mos, mos.toFixed(1));
        r.mos.title = `MOS ${mos.toFixed(2)}${num(q.r) !== null ? `, R ${Number(q.r).toFixed(0)}` : ''}`;
      } else {
        r.bars.dataset.level = '0';
        r.bars.dataset.q = 'none';
        r.mos.dataset.q = 'none';
        setText(r.mos, '—');
        r.mos.title = 'No score: only speakers and barred participants (mic check) are measured';
      }
      r.flag.hidden = !f.flagged;
      r.rec.hidden = !(f.recovered && p.state === 'barred');
      setText(r.time, observer ? '' : C.mmss(spokenMs(p)));

      // Actions: [Give floor | End turn] [Mute | Unmute] [Cut… | Allow]
      const live = p.state === 'live' || p.state === 'muted';
      if (observer) {
        [r.floorBtn, r.muteBtn, r.cutBtn].forEach((b) => { b.hidden = true; });
      } else {
        if (live) setBtn(r.floorBtn, 'end_turn', 'End turn', true);
        else setBtn(r.floorBtn, 'grant', 'Give floor', p.connected && p.state !== 'barred' && !webcast);
        if (p.state === 'muted' && p.chair_muted) setBtn(r.muteBtn, 'unmute', 'Unmute', true);
        else setBtn(r.muteBtn, 'mute', 'Mute', live);
        if (p.state === 'barred') setBtn(r.cutBtn, 'allow', 'Allow', true);
        else setBtn(r.cutBtn, 'cut', 'Cut…', true);
        r.floorBtn.setAttribute('aria-label', `${r.floorBtn.textContent} — ${p.name}`);
        r.muteBtn.setAttribute('aria-label', `${r.muteBtn.textContent} — ${p.name}`);
        r.cutBtn.setAttribute('aria-label', `${r.cutBtn.textContent} — ${p.name}`);
      }
    }
    for (const [id, r] of rows) {
      if (!seen.has(id)) { r.tr.remove(); rows.delete(id); }
    }
    if (model.selected && !rows.has(model.selected)) model.selected = null;
    const connected = model.roster.filter((p) => p.connected).length;
    setText(ui.partsCount, model.roster.length ? `${connected} connected${model.roster.length > connected ? ` · ${model.roster.length - connected} away` : ''}` : '');
    ui.partsEmpty.hidden = model.roster.length > 0;
  }

  function participant(id) { return model.roster.find((p) => p.delegate === id) || null; }

  function rowAction(id, act) {
    const p = participant(id);
    const name = p ? p.name : id;
    switch (act) {
      case 'grant': return cmd({ type: 'grant', delegate: id });
      case 'end_turn': return cmd({ type: 'end_turn', delegate: id });
      case 'mute': return cmd({ type: 'mute', delegate: id, on: true });
      case 'unmute': return cmd({ type: 'mute', delegate: id, on: false });
      case 'cut': return openCut(id, name);
      case 'allow': return cmd({ type: 'allow', delegate: id });
      default: return false;
    }
  }

  // ---- selection and details ------------------------------------------------------------
  function select(id) {
    model.selected = id;
    for (const [rid, r] of rows) r.tr.setAttribute('aria-selected', String(rid === id));
    if (id && rows.has(id)) rows.get(id).tr.scrollIntoView({ block: 'nearest' });
    renderDetails();
  }
  function moveSelection(delta) {
    const order = [...ui.partsBody.children].map((tr) => tr.dataset.delegate);
    if (!order.length) return;
    const i = order.indexOf(model.selected);
    const j = i < 0 ? (delta > 0 ? 0 : order.length - 1) : Math.max(0, Math.min(order.length - 1, i + delta));
    select(order[j]);
  }

  const METRICS = [
    ['mos', 'MOS', (v) => v.toFixed(2), ''],
    ['r', 'R factor', (v) => v.toFixed(0), ''],
    ['loss_pct', 'Loss', (v) => v.toFixed(1), '%'],
    ['burst_ratio', 'Burst ratio', (v) => v.toFixed(2), ''],
    ['jitter_ms', 'Jitter', (v) => v.toFixed(1), 'ms'],
    ['late_pct', 'Late', (v) => v.toFixed(1), '%'],
    ['concealed_pct', 'Concealed', (v) => v.toFixed(1), '%'],
    ['rtt_ms', 'RTT', (v) => v.toFixed(0), 'ms'],
    ['level_dbfs', 'Level', (v) => v.toFixed(1), 'dBFS'],
    ['clip_pct', 'Clipping', (v) => v.toFixed(2), '%'],
    ['noise_dbfs', 'Noise', (v) => v.toFixed(1), 'dBFS'],
    ['snr_db', 'SNR', (v) => v.toFixed(1), 'dB'],
  ];
  const metricEls = new Map();
  for (const [key, label] of METRICS) {
    const dd = h('dd', { dataset: { metric: key } }, '—');
    ui.metrics.appendChild(h('div', { className: 'metric' }, h('dt', null, label), dd));
    metricEls.set(key, dd);
  }
  function renderDetails() {
    const p = model.selected ? participant(model.selected) : null;
    ui.details.dataset.has = String(!!p);
    ui.detailsEmpty.hidden = !!p;
    ui.metrics.hidden = !p;
    if (!p) { setText(ui.detailsWho, ''); setText(ui.detailsSub, ''); setText(ui.detailsAge, ''); return; }
    setText(ui.detailsWho, p.name);
    const f = flags(p);
    const bits = [p.role, p.state, p.connected ? 'connected' : 'not connected'];
    if (p.state === 'muted') bits.push(p.chair_muted ? 'muted by the chair' : 'muted themselves');
    if (p.state === 'barred') bits.push(`barred${p.barred_by === 'auto' ? ' automatically' : ''}: ${p.bar_reason || 'no reason given'}`);
    if (f.flagged) bits.push('⚠ flagged');
    if (f.recovered && p.state === 'barred') bits.push('✓ recovered');
    setText(ui.detailsSub, `${p.delegate} · ${bits.join(' · ')}`);
    const q = model.quality.get(p.delegate);
    const fresh = q && performance.now() - q.at < QUALITY_FRESH_MS;
    for (const [key, , fmt, unit] of METRICS) {
      const v = q ? num(q[key]) : null;
      const dd = metricEls.get(key);
      setText(dd, v === null ? '—' : `${fmt(v)}${unit ? ` ${unit}` : ''}`);
      dd.classList.toggle('stale', !!q && !fresh);
      if (key === 'mos') dd.dataset.q = v === null || !fresh ? 'none' : mosClass(v);
    }
    setText(ui.detailsAge, q ? (fresh ? 'live' : `last score ${Math.round((performance.now() - q.at) / 1000)} s ago`) : 'not measured yet');
  }

  // ---- queue ------------------------------------------------------------------------------
  function waitingMs(e) {
    // since_ms: the time of the request. Epoch milliseconds are used as such;
    // anything else (a server-side monotonic clock) falls back to when this
    // console first saw the entry.
    const since = Number.isFinite(e.since_ms) && e.since_ms > 1e12 ? e.since_ms : e.seen;
    return Math.max(0, Date.now() - since);
  }
  const queueItems = new Map();
  function renderQueue() {
    const n = model.queue.length;
    setText(ui.queueCount, n ? `(${n})` : '');
    ui.queueEmpty.hidden = n > 0;
    const webcast = !!(model.mode && model.mode.mode === 'webcast');
    ui.grantNext.disabled = n === 0 || webcast;
    const seen = new Set();
    let prev = null;
    model.queue.forEach((e, i) => {
      seen.add(e.delegate);
      let it = queueItems.get(e.delegate);
      if (!it) {
        const b = (act, text, label, cls) => h('button', { type: 'button', className: cls || 'qb', dataset: { act }, 'aria-label': label, title: label }, text);
        it = { pos: h('span', { className: 'q-pos' }), name: h('span', { className: 'q-name' }), wait: h('span', { className: 'q-wait' }) };
        it.grant = b('grant', 'Give floor', 'Give the floor', 'q-grant');
        it.up = b('up', '↑', 'Move up');
        it.down = b('down', '↓', 'Move down');
        it.remove = b('remove', '✕', 'Remove from the queue');
        it.li = h('li', { dataset: { delegate: e.delegate } }, it.pos, it.name, it.wait, it.grant, it.up, it.down, it.remove);
        const id = e.delegate;
        it.li.addEventListener('click', (ev) => {
          const btn = ev.target.closest('button');
          if (!btn) { select(id); return; }
          const pos = model.queue.findIndex((x) => x.delegate === id) + 1;
          if (btn.dataset.act === 'grant') cmd({ type: 'grant', delegate: id });
          else if (btn.dataset.act === 'up') cmd({ type: 'queue_move', delegate: id, position: Math.max(1, pos - 1) });
          else if (btn.dataset.act === 'down') cmd({ type: 'queue_move', delegate: id, position: pos + 1 });
          else if (btn.dataset.act === 'remove') cmd({ type: 'queue_remove', delegate: id });
        });
        queueItems.set(e.delegate, it);
      }
      const want = prev ? prev.nextSibling : ui.queueList.firstChild;
      if (want !== it.li) ui.queueList.insertBefore(it.li, want);
      prev = it.li;
      setText(it.pos, `${i + 1}.`);
      setText(it.name, e.name);
      it.name.title = `${e.name} (${e.delegate})`;
      setText(it.wait, C.mmss(waitingMs(e)));
      it.grant.disabled = webcast;
      it.up.disabled = i === 0;
      it.down.disabled = i === n - 1;
    });
    for (const [id, it] of queueItems) if (!seen.has(id)) { it.li.remove(); queueItems.delete(id); }
  }
  ui.grantNext.addEventListener('click', grantNext);
  function grantNext() {
    if (!model.queue.length) { hint('The queue is empty.'); return; }
    cmd({ type: 'grant', delegate: model.queue[0].delegate });
  }

  // ---- mode and session -------------------------------------------------------------------
  function renderMode() {
    const m = model.mode;
    const webcast = !!(m && m.mode === 'webcast');
    ui.modeInteractive.setAttribute('aria-pressed', String(!webcast));
    ui.modeWebcast.setAttribute('aria-pressed', String(webcast));
    ui.modeBadge.dataset.mode = webcast ? 'webcast' : 'interactive';
    setText(ui.modeBadge, webcast ? 'webcast only' : 'interactive');
    document.body.dataset.mode = webcast ? 'webcast' : 'interactive';
    setText(ui.sessionName, m && m.session && m.session.name !== undefined ? String(m.session.name) : '—');
    const sessions = m ? m.sessions : [];
    const cur = m && m.session ? Number(m.session.index) : NaN;
    ui.session.replaceChildren(...(sessions.length ? sessions : [{ index: '', name: '—' }]).map((s) => h('option',
      { value: String(s.index), selected: Number(s.index) === cur },
      s.index === '' ? '—' : `${String(s.name)}${s.mode === 'webcast' ? ' (webcast)' : ''}`)));
    ui.session.disabled = sessions.length < 2;
  }
  function askMode(target) {
    const webcast = target === 'webcast';
    confirmThen(webcast ? 'Switch to webcast only?' : 'Switch to interactive?',
      webcast ? 'Every remote participant will only listen: live remote speakers leave the floor, the queue is cleared and nobody remote can request the floor.'
        : 'Remote delegates will be able to request the floor again.',
      webcast ? 'Webcast only' : 'Interactive',
      () => cmd({ type: 'set_mode', mode: target }));
  }
  ui.modeWebcast.addEventListener('click', () => { if (!model.mode || model.mode.mode !== 'webcast') askMode('webcast'); });
  ui.modeInteractive.addEventListener('click', () => { if (model.mode && model.mode.mode === 'webcast') askMode('interactive'); });
  ui.session.addEventListener('change', () => {
    const idx = Number(ui.session.value);
    const s = model.mode && model.mode.sessions.find((x) => Number(x.index) === idx);
    renderMode(); // back to the current one until the server says otherwise
    if (!s) return;
    confirmThen('Change the session?', `Switch to “${String(s.name)}”${s.mode === 'webcast' ? ' (webcast only)' : ''}. The floor and the queue start afresh.`,
      'Change session', () => cmd({ type: 'set_session', index: idx }));
  });
  ui.muteAll.addEventListener('click', () => cmd({ type: 'mute_all' }));

  // ---- chat -------------------------------------------------------------------------------
  function addChat(msg) {
    const m = {
      from: String(msg.from || ''), name: String(msg.name || msg.from || '?'),
      to: msg.to === 'chair' ? 'chair' : 'all', text: String(msg.text || ''), ts_ms: Number(msg.ts_ms) || Date.now(),
    };
    model.chat.push(m);
    if (model.chat.length > CHAT_KEPT) model.chat.shift();
    const atBottom = ui.chatLog.scrollHeight - ui.chatLog.scrollTop - ui.chatLog.clientHeight < 40;
    const mine = m.from && m.from === fb.delegate;
    ui.chatLog.appendChild(C.chatItem(m, { mine }));
    while (ui.chatLog.children.length > CHAT_KEPT) ui.chatLog.firstElementChild.remove();
    if (atBottom || mine) ui.chatLog.scrollTop = ui.chatLog.scrollHeight;
  }
  ui.chatForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ui.chatText.value.trim();
    if (!text) return;
    if (cmd({ type: 'chat', to: ui.chatTo.value === 'chair' ? 'chair' : 'all', text })) ui.chatText.value = '';
  });
  ui.chatPolicy.disabled = true;
  ui.chatPolicy.addEventListener('change', () => {
    const want = ui.chatPolicy.checked;
    // Show what the server says, not what we asked for: it answers chat_policy.
    ui.chatPolicy.checked = model.chatPolicy ? model.chatPolicy.delegates_to_all : !want;
    cmd({ type: 'chat_policy', delegates_to_all: want });
  });

  // ---- dialogs ------------------------------------------------------------------------------
  let cutTarget = null;
  function openCut(id, name) {
    if (!id) return;
    cutTarget = id;
    setText(ui.cutWho, name);
    ui.cutReason.value = '';
    if (!ui.cutDialog.open) ui.cutDialog.showModal();
    ui.cutReason.focus();
  }
  ui.cutQuick.addEventListener('click', (ev) => {
    const b = ev.target.closest('button');
    if (b && b.dataset.reason) { ui.cutReason.value = b.dataset.reason; ui.cutReason.focus(); }
  });
  ui.cutForm.addEventListener('submit', (ev) => {
    const reason = ui.cutReason.value.trim();
    if (!reason) { ev.preventDefault(); ui.cutReason.focus(); return; }
    if (cutTarget) cmd({ type: 'cut', delegate: cutTarget, reason });
    cutTarget = null;
  });
  ui.cutCancel.addEventListener('click', () => { cutTarget = null; ui.cutDialog.close(); });

  let confirmAction = null;
  function confirmThen(title, text, okText, fn) {
    setText(ui.confirmH, title);
    setText(ui.confirmText, text);
    setText(ui.confirmOk, okText);
    confirmAction = fn;
    if (!ui.confirm.open) ui.confirm.showModal();
    ui.confirmOk.focus();
  }
  ui.confirmForm.addEventListener('submit', () => { const f = confirmAction; confirmAction = null; if (f) f(); });
  ui.confirmCancel.addEventListener('click', () => { confirmAction = null; ui.confirm.close(); });
  ui.confirm.addEventListener('close', () => { confirmAction = null; });

  ui.helpOpen.addEventListener('click', () => ui.help.showModal());
  ui.helpClose.addEventListener('click', () => ui.help.close());

  // ---- keyboard ---------------------------------------------------------------------------
  function liveSpeakers() { return model.roster.filter((p) => p.state === 'live' || p.state === 'muted'); }
  function needSelected() {
    const p = model.selected ? participant(model.selected) : null;
    if (!p) hint('Select a participant first (↑/↓ or click a row).');
    return p;
  }
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (!ui.gate.hidden) return;
    if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys (Esc closes)
    const t = ev.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
    if (typing) {
      if (ev.key === 'Escape') t.blur();
      return;
    }
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    let handled = true;
    switch (key) {
      case 'g': grantNext(); break;
      case 'e': {
        const live = liveSpeakers();
        if (!live.length) hint('Nobody has the floor.');
        else if (live.length === 1) cmd({ type: 'end_turn', delegate: live[0].delegate });
        else {
          const sel = live.find((p) => p.delegate === model.selected);
          if (sel) cmd({ type: 'end_turn', delegate: sel.delegate });
          else hint('Several speakers have the floor: select one (↑/↓) and press E.');
        }
        break;
      }
      case 'm': {
        const p = needSelected();
        if (p) {
          if (p.state === 'muted' && p.chair_muted) cmd({ type: 'mute', delegate: p.delegate, on: false });
          else if (p.state === 'live' || p.state === 'muted') cmd({ type: 'mute', delegate: p.delegate, on: true });
          else hint(`${p.name} does not have the floor.`);
        }
        break;
      }
      case 'x': { const p = needSelected(); if (p) openCut(p.delegate, p.name); break; }
      case 'a': { const p = needSelected(); if (p) cmd({ type: 'allow', delegate: p.delegate }); break; }
      case 'ArrowDown': moveSelection(1); break;
      case 'ArrowUp': moveSelection(-1); break;
      case 'w': askMode(model.mode && model.mode.mode === 'webcast' ? 'interactive' : 'webcast'); break;
      case '/': ui.chatText.focus(); break;
      case '?': ui.help.showModal(); break;
      case 'Escape': select(null); break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });

  // Speaking and waiting times move on their own.
  setInterval(() => { renderParticipants(); renderQueue(); renderDetails(); renderMe(); }, 1000);

  // ---- start --------------------------------------------------------------------------------
  renderMode();
  renderQueue();
  renderParticipants();
  renderDetails();
  if (!opts.token) {
    gate('This console needs a chair token', 'Open the console link you were given: it ends in #token=… with a chair’s token.', 'no_token');
    client.stop('failed', 'No token', null);
    return;
  }
  const claims = C.peekToken(opts.token);
  if (claims && claims.role !== 'chair') {
    const role = typeof claims.role === 'string' ? claims.role : 'unknown';
    gate('This console needs a chair token',
      `This link carries a token for ${role === 'observer' ? 'an observer' : `a ${role}`}, not for a chair. ` +
      'It was not used here, so nobody was disconnected.', null, `index.html${location.hash}`);
    client.stop('failed', 'Not a chair token', null);
    return;
  }
  if (claims) {
    setText(ui.meName, typeof claims.name === 'string' ? claims.name : '—');
    setText(ui.meeting, typeof claims.mtg === 'string' ? claims.mtg : '—');
  }
  client.ensureMic();
  client.connect();
})();
