/*
 * common.js — what the delegate page (app.js) and the chair console (chair.js)
 * share: the connection engine (WebSocket, join, microphone, RTCPeerConnection,
 * reconnect with backoff), DOM helpers that only ever use textContent, and
 * small formatting helpers. Plain JS, no build step: sets window.FBCommon.
 *
 * The engine (FBCommon.createClient) knows nothing about a page's layout: it
 * reports through hooks and the page draws. Messages it does not handle itself
 * (everything but joined/answer/pong/event/error) go to hooks.message, so the
 * floor protocol (you, queue, roster, quality, mode, chat, chat_policy) is the
 * page's business. Unknown message types are ignored, as PROTOCOL.md asks.
 *
 * For tests the engine publishes window.floorbridge = { state, pid, role,
 * delegate, name, meeting, connects, attempt, timings, events, errors,
 * messages, received, stats(), send(obj) }; pages add their own fields.
 */
'use strict';
(() => {
  const BACKOFF_MAX_S = 30;
  const PING_EVERY_MS = 15000;
  const PONG_TIMEOUT_MS = 10000;
  const JOIN_TIMEOUT_MS = 15000;      // WebSocket open → joined
  const MEDIA_TIMEOUT_MS = 20000;     // offer sent → media connected
  const DISCONNECT_GRACE_MS = 5000;   // ICE "disconnected" before we give up on it
  const STABLE_MS = 10000;            // connected this long resets the backoff
  const FIRST_AUDIO_DB = -50;         // received level that counts as "audio arrived"
  const MESSAGES_KEPT = 400;          // window.floorbridge.messages (for tests)

  // ---- options and token ------------------------------------------------------
  /** #token=JWT[&relay=1][&raw=1] (?token= works too). */
  function readOptions() {
    const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    const query = new URLSearchParams(location.search);
    const get = (k) => (frag.has(k) ? frag.get(k) : query.get(k));
    const flag = (v) => v !== null && v !== '' && v !== '0' && v !== 'false';
    return { token: (get('token') || '').trim(), relay: flag(get('relay')), raw: flag(get('raw')) };
  }

  /** Unverified look at a JWT's claims (to show who is joining, to pick the
   * page's behaviour early); the server's "joined" is what counts. */
  function peekToken(jwt) {
    try {
      const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const bytes = Uint8Array.from(atob(part + '='.repeat((4 - (part.length % 4)) % 4)), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === 'object' ? claims : null;
    } catch (e) {
      return null;
    }
  }

  // ---- DOM helpers: text only ---------------------------------------------------
  /** h('button', {className: 'x', type: 'button', onclick: fn, dataset: {id: 1},
   * title: '...', 'aria-label': '...'}, 'text', childNode, ...). Strings become
   * text nodes; there is no way to pass HTML. */
  function h(tag, props, ...kids) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'className') e.className = v;
        else if (k === 'text') e.textContent = String(v);
        else if (k === 'dataset') Object.entries(v).forEach(([dk, dv]) => { e.dataset[dk] = String(dv); });
        else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
        else if (k === 'disabled' || k === 'hidden' || k === 'checked' || k === 'selected') e[k] = !!v;
        else if (k === 'value') e.value = String(v);
        else e.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }
  /** Set an element's text only when it changed (no needless DOM churn). */
  function setText(el, text) {
    const t = text === null || text === undefined ? '' : String(text);
    if (el.textContent !== t) el.textContent = t;
  }

  // ---- formatting ---------------------------------------------------------------
  function ordinal(n) {
    const k = Math.abs(Math.trunc(n));
    const t = k % 100, o = k % 10;
    const suffix = t >= 11 && t <= 13 ? 'th' : o === 1 ? 'st' : o === 2 ? 'nd' : o === 3 ? 'rd' : 'th';
    return `${n}${suffix}`;
  }
  /** 83000 → "1:23"; an hour or more → "1:02:03". */
  function mmss(ms) {
    const s = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
    const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
    const p = (x) => String(x).padStart(2, '0');
    return hh ? `${hh}:${p(mm)}:${p(ss)}` : `${p(mm)}:${p(ss)}`;
  }
  /** A wall-clock time (ms since the epoch) as HH:MM in local time; '' if unusable. */
  function clockTime(ms) {
    const n = Number(ms);
    if (!Number.isFinite(n) || n < 1e11) return '';
    const d = new Date(n);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }

  /** One chat message as a list item (text only): time, sender, "to the
   * chair" when private, the text. opts.mine marks our own messages. */
  function chatItem(m, opts = {}) {
    const to = m.to === 'chair' ? 'chair' : 'all';
    return h('li', { className: `chat-msg${opts.mine ? ' mine' : ''}`, dataset: { to, from: m.from || '' } },
      h('span', { className: 'chat-meta' },
        h('time', { className: 'chat-time', datetime: new Date(Number(m.ts_ms) || Date.now()).toISOString() },
          clockTime(m.ts_ms) || clockTime(Date.now())),
        ' ',
        h('span', { className: 'chat-from' }, m.name || m.from || '?'),
        to === 'chair' ? h('span', { className: 'chat-to' }, 'to the chair') : null),
      h('span', { className: 'chat-text' }, m.text));
  }

  // Stable error codes of the floor and chat protocol, with words for people.
  const ERROR_TEXT = {
    not_chair: 'Only the chair can do that.',
    not_delegate: 'Observers cannot do that.',
    unknown_delegate: 'No such participant in this meeting.',
    not_connected: 'That participant is not connected.',
    barred: 'The chair has barred this participant from the floor.',
    not_barred: 'That participant is not barred.',
    webcast_only: 'This session is webcast-only: nobody remote may speak.',
    already_queued: 'Already in the queue.',
    not_queued: 'Not in the queue.',
    already_live: 'Already has the floor.',
    not_live: 'Does not have the floor.',
    floor_full: 'The floor is full: end a turn first.',
    chair_muted: 'Muted by the chair: only the chair can unmute.',
    bad_argument: 'The request was not valid.',
    chat_disabled: 'The chair allows messages to the chair only.',
    chat_too_long: 'The message is too long.',
    chat_rate_limited: 'Too many messages: wait a moment.',
    chat_empty: 'The message is empty.',
  };

  // Errors that end a connection attempt when they arrive before media flows.
  // Everything else (floor and chat refusals, rate limits, unknown types from
  // an older server) answers one message and changes nothing.
  const SETUP_REQUESTS = new Set(['join', 'offer']);
  const SETUP_CODES = new Set(['join_failed', 'bad_sdp', 'no_audio', 'not_joined', 'internal']);

  // ---- the connection engine ------------------------------------------------------
  /**
   * cfg: { token, relay, raw, audio: <audio> element, hooks: {
   *   state(state, text), notice(text), error(code, message, title), clearError(),
   *   joined(msg), message(msg), audioBlocked(bool), buttons({retry, leave}),
   *   micStart(), micReady(track), micError(text) } }
   * Every hook is optional.
   */
  function createClient(cfg) {
    const hooks = cfg.hooks || {};
    const call = (name, ...args) => { if (typeof hooks[name] === 'function') return hooks[name](...args); return undefined; };

    const fb = {
      state: 'connecting', // connecting | joined | media_connected | reconnecting | failed | left
      pid: null, role: null, meeting: null, delegate: null, name: null,
      canSpeak: false, live: false,
      attempt: 0,           // consecutive failed attempts (drives the backoff)
      connects: 0,          // WebSocket connections opened so far
      nextRetryMs: null,    // backoff chosen for the pending reconnect
      timings: {},          // this attempt: wsStart, wsOpen, joined, offer, answer, iceConnected, connected, firstAudio
      events: [],           // server events, oldest first (bounded)
      errors: [],           // {code, message, request} shown, oldest first (bounded)
      messages: [],         // other server messages (you, queue, roster, ...), oldest first (bounded)
      messagesDropped: 0,   // how many the bound has dropped from the front
      failure: null,        // why connecting fails: {kind, reason, since, help} (null once joined)
      received: null, stats: null, send: null, // filled in below
    };
    window.floorbridge = fb;

    function setState(state, text) { fb.state = state; call('state', state, text); }
    function showNotice(text) { call('notice', text || ''); }
    function showError(code, message, title, request) {
      fb.errors.push({ code: String(code), message: String(message || ''), request: request || null });
      if (fb.errors.length > 50) fb.errors.shift();
      call('error', String(code), String(message || ''), title || 'The server refused:', request || null);
    }
    function clearError() { call('clearError'); }
    const buttons = { retry: null, leave: false };
    function setButtons(b) { Object.assign(buttons, b); call('buttons', { ...buttons }); }

    // ---- audio: context, received-audio analysis ----------------------------------
    let audioCtx = null;
    let rxSource = null, rxAnalyser = null, rxMeter = null;
    let micSource = null, micMeter = null;
    let audioBlocked = false;
    let remoteStream = null;
    const audioEl = cfg.audio;
    function ctx() {
      if (!audioCtx) {
        const AC = window.AudioContext || window.webkitAudioContext;
        audioCtx = new AC({ latencyHint: 'interactive' });
        audioCtx.onstatechange = updateBlocked;
      }
      return audioCtx;
    }
    function updateBlocked() {
      const blocked = (audioCtx && audioCtx.state === 'suspended') || audioBlocked;
      call('audioBlocked', !!(blocked && remoteStream));
    }
    function attachRemote(stream) {
      remoteStream = stream;
      audioEl.srcObject = stream;
      const p = audioEl.play();
      if (p && p.catch) p.then(() => { audioBlocked = false; updateBlocked(); },
        () => { audioBlocked = true; updateBlocked(); });
      const c = ctx();
      if (rxSource) rxSource.disconnect();
      // Chromium feeds a remote WebRTC stream to WebAudio only while the stream
      // also plays in a media element: the <audio> does that.
      rxSource = c.createMediaStreamSource(stream);
      if (!rxAnalyser) {
        rxAnalyser = c.createAnalyser();
        rxAnalyser.fftSize = 32768; // ~0.7 s at 48 kHz, for tests
        rxMeter = c.createAnalyser();
        rxMeter.fftSize = 1024;
      }
      rxSource.connect(rxAnalyser);
      rxSource.connect(rxMeter);
      if (c.state === 'suspended') c.resume().catch(() => {});
      updateBlocked();
    }
    function detachRemote() {
      if (rxSource) { rxSource.disconnect(); rxSource = null; }
      remoteStream = null;
      audioEl.srcObject = null;
      updateBlocked();
    }
    function resumeAudio() {
      if (audioCtx) audioCtx.resume().catch(() => {});
      audioEl.play().then(() => { audioBlocked = false; updateBlocked(); }, () => {});
    }

    const meterBuf = new Float32Array(1024);
    function levelDb(analyser) {
      analyser.getFloatTimeDomainData(meterBuf);
      let s = 0;
      for (let i = 0; i < meterBuf.length; i++) s += meterBuf[i] * meterBuf[i];
      const rms = Math.sqrt(s / meterBuf.length);
      return rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    }
    const levels = { rx: -Infinity, mic: -Infinity };
    setInterval(() => {
      levels.rx = rxMeter && rxSource ? levelDb(rxMeter) : -Infinity;
      levels.mic = micMeter && micSource ? levelDb(micMeter) : -Infinity;
      if (cur && cur.connected && fb.timings.firstAudio === undefined && levels.rx > FIRST_AUDIO_DB) {
        fb.timings.firstAudio = performance.now();
      }
      call('levels', levels.rx, levels.mic);
    }, 20);

    // ---- microphone -------------------------------------------------------------
    let micStream = null;
    let micPromise = null;
    let muted = false;         // the participant's own mute (local: track disabled)
    let uplink = true;         // false: send nothing (webcast-only session)
    const MIC_KEY = 'floorbridge.mic';
    function micTrack() { return micStream ? micStream.getAudioTracks()[0] || null : null; }
    function micConstraints(deviceId, exact) {
      const audio = {
        echoCancellation: !cfg.raw, noiseSuppression: !cfg.raw, autoGainControl: !cfg.raw,
        channelCount: 1,
      };
      if (deviceId) audio.deviceId = exact ? { exact: deviceId } : { ideal: deviceId };
      return { audio, video: false };
    }
    function savedMic() { try { return localStorage.getItem(MIC_KEY) || ''; } catch (e) { return ''; } }
    function saveMic(id) { try { localStorage.setItem(MIC_KEY, id); } catch (e) { /* private mode */ } }

    let meterTrack = null; // a clone, so the meter still moves while muted
    function useMicStream(stream) {
      const old = micStream;
      micStream = stream;
      const t = micTrack();
      if (t) t.enabled = !muted;
      if (micSource) micSource.disconnect();
      if (meterTrack) meterTrack.stop();
      meterTrack = t ? t.clone() : null;
      if (meterTrack) meterTrack.enabled = true;
      const c = ctx();
      micSource = c.createMediaStreamSource(meterTrack ? new MediaStream([meterTrack]) : stream);
      if (!micMeter) { micMeter = c.createAnalyser(); micMeter.fftSize = 1024; }
      micSource.connect(micMeter);
      if (c.state === 'suspended') c.resume().catch(() => {});
      if (old && old !== stream) old.getTracks().forEach((x) => x.stop());
      call('micReady', t);
    }

    /** Get the microphone once; kept across reconnects. Resolves to the track
     * or null (no mic / refused: the participant still listens). */
    function ensureMic() {
      const t = micTrack();
      if (t && t.readyState === 'live') return Promise.resolve(t);
      if (micPromise) return micPromise;
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        call('micError', 'This browser gives no microphone access here: you can listen only.');
        return Promise.resolve(null);
      }
      call('micStart');
      micPromise = navigator.mediaDevices.getUserMedia(micConstraints(savedMic(), false))
        .then((stream) => { useMicStream(stream); return micTrack(); })
        .catch((e) => {
          call('micError', `Microphone unavailable (${e && e.name ? e.name : 'error'}): you can listen only.`);
          return null;
        })
        .finally(() => { micPromise = null; });
      return micPromise;
    }
    function dropMic() {
      if (micStream) micStream.getTracks().forEach((x) => x.stop());
      if (meterTrack) meterTrack.stop();
      micStream = meterTrack = null;
      if (micSource) { micSource.disconnect(); micSource = null; }
    }
    /** Switch to another input device; resolves to '' or a reason it failed. */
    async function switchMic(id) {
      let stream = null;
      try {
        stream = await navigator.mediaDevices.getUserMedia(micConstraints(id, true));
      } catch (e) {
        if (e && e.name === 'NotReadableError' && micStream) {
          // Some devices allow one capture at a time: release the old one first.
          dropMic();
          try { stream = await navigator.mediaDevices.getUserMedia(micConstraints(id, true)); } catch (e2) { e = e2; }
        }
        if (!stream) return `Could not switch microphone (${e && e.name ? e.name : 'error'}).`;
      }
      const track = stream.getAudioTracks()[0];
      track.enabled = !muted;
      const sender = cur && cur.sender;
      let problem = '';
      if (sender && uplink) {
        try { await sender.replaceTrack(track); } catch (e) { problem = 'Could not switch microphone on the call.'; }
      }
      useMicStream(stream);
      saveMic(id);
      return problem;
    }
    function setMuted(on) {
      muted = !!on;
      const t = micTrack();
      if (t) t.enabled = !muted;
    }
    /** false: stop sending audio (the track stays, the meter still moves). */
    function setUplink(on) {
      on = !!on;
      if (on === uplink) return;
      uplink = on;
      const sender = cur && cur.sender;
      if (sender) sender.replaceTrack(uplink ? micTrack() : null).catch(() => {});
    }

    // ---- one connection attempt -----------------------------------------------------
    // cur = { ws, pc, sender, joined, connected, timers: [...] }; handlers of an
    // older attempt check `s === cur` and do nothing once it has been replaced.
    let cur = null;
    let retryTimer = null, countdownTimer = null, stableTimer = null;
    let gaveUp = false;
    let pingSeq = 0;

    // Why a WebSocket that never opened failed. The browser's WebSocket API
    // gives no reason (always close code 1006), so ask the same origin over
    // plain HTTP: unreachable there too means the network, a firewall or the
    // TLS certificate; reachable means the server or something in between
    // (a proxy, an HTTP/2 or TLS protocol error) refused the WebSocket itself.
    async function diagnose() {
      try {
        const ctl = new AbortController();
        const t = setTimeout(() => ctl.abort(), 4000);
        const r = await fetch(`${location.protocol}//${location.host}/healthz`, { cache: 'no-store', signal: ctl.signal });
        clearTimeout(t);
        return { kind: 'refused', reason: `the server answers (HTTP ${r.status}) but the WebSocket to it failed ` +
          '(a proxy or firewall blocking WebSockets, or a TLS/HTTP protocol error)' };
      } catch (e) {
        // navigator.onLine alone is no proof (it is false on a loopback-only
        // machine that still reaches the server), so only after a failed fetch
        if (navigator.onLine === false) {
          return { kind: 'offline', reason: `cannot reach ${location.host}: this device reports no network connection` };
        }
        return { kind: 'unreachable', reason: `cannot reach ${location.host} (network, firewall, or its TLS certificate)` };
      }
    }
    const HELP_AFTER_MS = 10000;
    const HELP_TEXT = 'Check that this device is online, that this page\'s address opens in a new tab ' +
      '(accept the certificate if asked), and that no VPN, proxy or firewall blocks secure WebSockets to ' +
      `${location.host}. If it still fails, tell the meeting secretariat what this message says.`;
    let helpTimer = null;
    // Record a failed attempt; after HELP_AFTER_MS of failing, add what to check.
    function failed(kind, reason) {
      const since = fb.failure ? fb.failure.since : (fb.timings.wsStart || performance.now());
      const help = performance.now() - since >= HELP_AFTER_MS;
      fb.failure = { kind, reason, since, help };
      if (!helpTimer && !help) {
        helpTimer = setTimeout(() => {
          helpTimer = null;
          if (fb.failure && !fb.failure.help) { fb.failure.help = true; showNotice(noticeText()); }
        }, Math.max(0, since + HELP_AFTER_MS - performance.now()));
      }
      return reason;
    }
    function noticeText() {
      const f = fb.failure;
      if (!f) return '';
      const r = `${f.reason[0].toUpperCase()}${f.reason.slice(1)}.`;
      if (!f.help) return r;
      return `${r} Still not connected after ${Math.round((performance.now() - f.since) / 1000)} s. ${HELP_TEXT}`;
    }

    function wsUrl() {
      return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    }
    function send(s, obj) {
      if (s && s.ws && s.ws.readyState === WebSocket.OPEN) {
        s.ws.send(JSON.stringify(Object.assign({ v: 1 }, obj)));
        return true;
      }
      return false;
    }
    function later(s, ms, fn) {
      const id = setTimeout(() => { if (s === cur) fn(); }, ms);
      s.timers.push(id);
      return id;
    }

    function connect() {
      clearTimeout(retryTimer); clearInterval(countdownTimer);
      retryTimer = countdownTimer = null;
      fb.nextRetryMs = null;
      gaveUp = false;
      const s = { ws: null, pc: null, sender: null, joined: false, connected: false, timers: [], pending: new Map() };
      cur = s;
      fb.timings = { wsStart: performance.now() };
      setState('connecting', fb.attempt ? `Connecting (attempt ${fb.attempt + 1})…` : 'Connecting…');
      setButtons({ retry: null });
      try {
        s.ws = new WebSocket(wsUrl());
      } catch (e) {
        retryLater(failed('unreachable', `could not open the connection (${e && e.name ? e.name : e})`));
        return;
      }
      fb.connects++;
      s.ws.onopen = () => {
        if (s !== cur) return;
        s.opened = true;
        fb.timings.wsOpen = performance.now();
        send(s, { type: 'join', token: cfg.token });
        later(s, JOIN_TIMEOUT_MS, () => { if (!s.joined) retryLater('the server did not answer in time'); });
        s.pingTimer = setInterval(() => ping(s), PING_EVERY_MS);
        s.timers.push(s.pingTimer);
      };
      s.ws.onmessage = (ev) => {
        if (s !== cur) return;
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { console.warn('floorbridge: not JSON from server'); return; }
        if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
        handle(s, msg).catch((e) => { if (s === cur) retryLater(`setup failed (${e && e.name ? e.name : e})`); });
      };
      s.ws.onerror = () => { /* a close follows */ };
      s.ws.onclose = (ev) => {
        if (s !== cur) return;
        if (!s.opened) {
          // never connected: not "connection lost"; find out what we can
          s.ws.onclose = null;
          diagnose().then((d) => { if (s === cur) retryLater(failed(d.kind, d.reason)); });
          return;
        }
        retryLater(failed('lost', ev.code === 1000 || ev.code === 1005 ? 'the server closed the connection'
          : `connection lost (${ev.code})`));
      };
    }

    function ping(s) {
      const id = ++pingSeq;
      send(s, { type: 'ping', id });
      s.pending.set(id, setTimeout(() => { if (s === cur) retryLater('the server stopped answering'); }, PONG_TIMEOUT_MS));
      s.timers.push(s.pending.get(id));
    }

    async function handle(s, msg) {
      switch (msg.type) {
        case 'joined': return onJoined(s, msg);
        case 'answer': return onAnswer(s, msg);
        case 'pong': {
          const t = s.pending.get(msg.id);
          if (t !== undefined) { clearTimeout(t); s.pending.delete(msg.id); }
          return undefined;
        }
        case 'event': return onEvent(s, msg);
        case 'error': return onError(s, msg);
        default:
          if (typeof msg.type !== 'string') return undefined;
          fb.messages.push(Object.assign({ t: performance.now() }, msg));
          if (fb.messages.length > MESSAGES_KEPT) { fb.messages.shift(); fb.messagesDropped++; }
          try { call('message', msg); } catch (e) { console.warn(`floorbridge: ${msg.type}: ${e && e.message}`); }
          return undefined;
      }
    }

    async function onJoined(s, msg) {
      if (s.joined) return;
      s.joined = true;
      fb.timings.joined = performance.now();
      fb.failure = null;
      clearTimeout(helpTimer); helpTimer = null;
      fb.pid = msg.pid;
      fb.role = msg.role;
      fb.meeting = msg.meeting; fb.delegate = msg.delegate; fb.name = msg.name;
      fb.canSpeak = !!msg.can_speak; fb.live = !!msg.live;
      clearError();
      setState('joined', 'Joined — connecting audio…');
      setButtons({ leave: true });
      const observer = msg.role === 'observer';
      if (call('joined', msg) === false) { stop('failed', 'Stopped', null); return; }
      if (observer) dropMic();

      const iceServers = Array.isArray(msg.ice_servers)
        ? msg.ice_servers.filter((x) => x && x.urls).map((x) => {
          const o = { urls: x.urls };
          if (x.username !== undefined) o.username = x.username;
          if (x.credential !== undefined) o.credential = x.credential;
          return o;
        })
        : [];
      if (cfg.relay && !iceServers.length) {
        showError('no_relay', 'Relay-only mode was requested, but the server offers no TURN relay.', 'Cannot connect:');
      }
      const pc = new RTCPeerConnection({
        iceServers, iceTransportPolicy: cfg.relay ? 'relay' : 'all',
        bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
      });
      s.pc = pc;
      pc.ontrack = (ev) => {
        if (s !== cur) return;
        attachRemote(ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream([ev.track]));
      };
      pc.oniceconnectionstatechange = () => {
        if (s !== cur) return;
        const st = pc.iceConnectionState;
        if ((st === 'connected' || st === 'completed') && fb.timings.iceConnected === undefined) {
          fb.timings.iceConnected = performance.now();
        }
      };
      pc.onconnectionstatechange = () => { if (s === cur) onPcState(s, pc.connectionState); };

      const track = observer ? null : await ensureMic();
      if (s !== cur) return;
      if (track) {
        const tr = pc.addTransceiver(track, { direction: 'sendrecv', streams: [micStream] });
        s.sender = tr.sender;
        if (!uplink) await s.sender.replaceTrack(null);
      } else {
        pc.addTransceiver('audio', { direction: 'recvonly' });
      }
      const offer = await pc.createOffer();
      if (s !== cur) return;
      await pc.setLocalDescription(offer);
      if (s !== cur) return;
      fb.timings.offer = performance.now();
      send(s, { type: 'offer', sdp: pc.localDescription.sdp });
      later(s, MEDIA_TIMEOUT_MS, () => { if (!s.connected) retryLater('the audio connection did not come up'); });
    }

    async function onAnswer(s, msg) {
      if (!s.pc || s.answered) return;
      s.answered = true;
      fb.timings.answer = performance.now();
      await s.pc.setRemoteDescription({ type: 'answer', sdp: String(msg.sdp || '') });
    }

    function onPcState(s, st) {
      if (st === 'connected') {
        s.connected = true;
        if (fb.timings.connected === undefined) fb.timings.connected = performance.now();
        clearTimeout(s.graceTimer);
        setState('media_connected', 'Connected — you hear the meeting');
        showNotice('');
        clearError();
        clearTimeout(stableTimer);
        stableTimer = later(s, STABLE_MS, () => { fb.attempt = 0; });
      } else if (st === 'disconnected') {
        showNotice('Audio interrupted — waiting for the network…');
        clearTimeout(s.graceTimer);
        s.graceTimer = later(s, DISCONNECT_GRACE_MS, () => {
          if (s.pc && s.pc.connectionState !== 'connected') retryLater('the audio connection was lost');
        });
      } else if (st === 'failed') {
        retryLater('the audio connection failed');
      }
    }

    const EVENT_TEXT = {
      consent_lost: 'The bridge stopped hearing from this browser.',
      dtls_failed: 'The secure audio connection could not be set up.',
      floor_lost: "The room's audio feed is interrupted; the bridge is restoring it.",
      floor_restored: '',
    };
    function onEvent(s, msg) {
      const ev = String(msg.event || '');
      fb.events.push({ event: ev, detail: msg.detail === undefined ? null : msg.detail, t: performance.now() });
      if (fb.events.length > 100) fb.events.shift();
      switch (ev) {
        case 'media_connected':
          fb.timings.serverMedia = performance.now();
          if (s.pc && s.pc.connectionState === 'connected') setState('media_connected', 'Connected — you hear the meeting');
          break;
        case 'consent_lost':
        case 'dtls_failed':
          retryLater(EVENT_TEXT[ev]);
          break;
        case 'floor_lost':
        case 'floor_restored':
          showNotice(EVENT_TEXT[ev]);
          break;
        case 'replaced':
          stop('failed', 'Stopped: you joined from another window or device',
            'replaced', 'This participant joined from somewhere else, so this page has stopped. Choose “Rejoin here” to take the audio back.',
            'Replaced:');
          setButtons({ retry: 'Rejoin here' });
          break;
        default:
          break;
      }
    }

    function onError(s, msg) {
      const code = String(msg.code || 'error');
      const message = String(msg.message || '');
      const request = typeof msg.request === 'string' ? msg.request : null;
      if (/^token_/.test(code)) {
        // token_revoked after joining: the secretariat withdrew the invitation
        // during the meeting; say so, do not call it a failed join
        if (s.joined) stop('failed', `Disconnected: ${code}`, code, message, 'Disconnected:');
        else stop('failed', `Failed: ${code}`, code, message, 'Cannot join:');
        return;
      }
      showError(code, message, undefined, request);
      // Refused while setting up: this attempt is over; try again later. Any
      // other error only answers one message and changes nothing.
      const setup = request ? SETUP_REQUESTS.has(request) : SETUP_CODES.has(code);
      if (setup && !s.connected) retryLater(`the server refused (${code})`);
    }

    // ---- teardown, backoff, give up ------------------------------------------------
    function teardown(sendLeave) {
      const s = cur;
      cur = null;
      clearTimeout(stableTimer);
      if (!s) return;
      s.timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
      clearTimeout(s.graceTimer);
      if (sendLeave) send(s, { type: 'leave' });
      if (s.pc) { try { s.pc.close(); } catch (e) { /* already closed */ } }
      if (s.ws) {
        s.ws.onopen = s.ws.onmessage = s.ws.onclose = s.ws.onerror = null;
        try { s.ws.close(1000); } catch (e) { /* already closed */ }
      }
      detachRemote();
      call('disconnected');
    }

    function retryLater(reason) {
      if (gaveUp) return;
      teardown(false);
      const base = Math.min(BACKOFF_MAX_S, 2 ** Math.min(fb.attempt, 5));
      const delayMs = Math.round(Math.min(BACKOFF_MAX_S, base * (0.75 + Math.random() * 0.5)) * 1000);
      fb.attempt++;
      fb.nextRetryMs = delayMs;
      if (!fb.failure || fb.failure.reason !== reason) failed('lost', reason || 'the connection failed');
      showNotice(noticeText());
      const due = Date.now() + delayMs;
      const tick = () => {
        const left = Math.max(1, Math.ceil((due - Date.now()) / 1000));
        setState('reconnecting', `Reconnecting in ${left} s…`);
      };
      tick();
      countdownTimer = setInterval(tick, 1000);
      retryTimer = setTimeout(() => { clearInterval(countdownTimer); connect(); }, delayMs);
      setButtons({ retry: 'Try again now' });
    }

    function stop(state, text, code, message, title) {
      gaveUp = true;
      teardown(false);
      clearTimeout(retryTimer); clearInterval(countdownTimer);
      fb.nextRetryMs = null;
      setState(state, text);
      showNotice('');
      if (code) showError(code, message, title);
      setButtons({ leave: false });
    }

    function retryNow() {
      fb.attempt = 0;
      clearError();
      teardown(false);
      connect();
    }
    function leave() {
      gaveUp = true;
      teardown(true);
      clearTimeout(retryTimer); clearInterval(countdownTimer);
      dropMic();
      micMeter = null;
      setState('left', 'You left the meeting');
      showNotice('');
      setButtons({ leave: false, retry: 'Rejoin' });
    }
    window.addEventListener('pagehide', () => { if (cur) teardown(true); });

    // ---- test hooks and the page's way to talk -----------------------------------------
    /** Send a protocol message on the current connection (v is added); false
     * when there is no open connection. */
    fb.send = (obj) => send(cur, obj);
    fb.received = {
      // The most recent ~0.7 s of what this page receives (mono float), or an
      // empty array before any audio arrived.
      getFloatTimeDomain() {
        if (!rxAnalyser || !rxSource) return new Float32Array(0);
        const a = new Float32Array(rxAnalyser.fftSize);
        rxAnalyser.getFloatTimeDomainData(a);
        return a;
      },
      get sampleRate() { return audioCtx ? audioCtx.sampleRate : 0; },
    };
    fb.stats = async () => {
      const pc = cur && cur.pc;
      if (!pc) return null;
      const report = await pc.getStats();
      const byId = new Map();
      report.forEach((x) => byId.set(x.id, x));
      let pair = null;
      byId.forEach((x) => {
        if (x.type === 'transport' && x.selectedCandidatePairId) pair = byId.get(x.selectedCandidatePairId) || pair;
      });
      if (!pair) byId.forEach((x) => { if (!pair && x.type === 'candidate-pair' && x.nominated && x.state === 'succeeded') pair = x; });
      const cand = (id) => {
        const c = byId.get(id);
        return c ? { type: c.candidateType, protocol: c.protocol, address: c.address, port: c.port, relayProtocol: c.relayProtocol } : null;
      };
      const pick = (type) => {
        let r = null;
        byId.forEach((x) => { if (!r && x.type === type && (x.kind === 'audio' || x.mediaType === 'audio')) r = x; });
        return r;
      };
      const inb = pick('inbound-rtp'), out = pick('outbound-rtp');
      return {
        connectionState: pc.connectionState,
        iceConnectionState: pc.iceConnectionState,
        selectedPair: pair ? {
          state: pair.state, nominated: pair.nominated, rtt: pair.currentRoundTripTime,
          bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived,
          local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId),
        } : null,
        inbound: inb ? {
          packetsReceived: inb.packetsReceived, packetsLost: inb.packetsLost, jitter: inb.jitter,
          bytesReceived: inb.bytesReceived, audioLevel: inb.audioLevel,
          totalSamplesReceived: inb.totalSamplesReceived, concealedSamples: inb.concealedSamples,
        } : null,
        outbound: out ? { packetsSent: out.packetsSent, bytesSent: out.bytesSent } : null,
      };
    };

    return {
      fb,
      connect, retryNow, leave, stop, resumeAudio,
      send: (obj) => send(cur, obj),
      ensureMic, dropMic, switchMic, micTrack, setMuted, setUplink,
      get muted() { return muted; },
      get uplink() { return uplink; },
      get connected() { return !!(cur && cur.connected); },
      get joined() { return !!(cur && cur.joined); },
      showError, clearError, showNotice,
      levels,
    };
  }

  window.FBCommon = {
    readOptions, peekToken, h, setText, ordinal, mmss, clockTime, chatItem, createClient, ERROR_TEXT,
  };
})();
