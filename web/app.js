/*
 * app.js — the floorbridge delegate page (plain JS, no build step).
 *
 * Link: index.html#token=JWT[&relay=1][&raw=1]  (?token=JWT also works)
 *   relay=1  only use TURN relays (iceTransportPolicy "relay")
 *   raw=1    no echo cancellation / noise suppression / gain control on the mic
 *            (for tests playing tones; a real delegate keeps the defaults)
 *
 * Flow: WebSocket /ws (same origin) → join{token} → joined{...} → (mic unless
 * observer) → RTCPeerConnection → offer{sdp} sent at once (the server is
 * ICE-lite and learns our address from our checks) → answer{sdp} → media.
 * Every server-provided string goes to the DOM through textContent only.
 *
 * Reconnects after a WebSocket drop or a media failure with exponential
 * backoff (1, 2, 4 … 30 s, ±25 % jitter), same token; gives up on token_*
 * errors and on "replaced" (this delegate joined elsewhere).
 *
 * For tests: window.floorbridge = { state, pid, role, received, stats(),
 * timings, events, errors } (see the end of this file).
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

  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $('state'), stateBox: $('state').parentElement, notice: $('notice'),
    error: $('error'), errorTitle: $('error-title'), errorCode: $('error-code'),
    errorMessage: $('error-message'),
    name: $('who-name'), role: $('who-role'), meeting: $('who-meeting'),
    startAudio: $('start-audio'), retry: $('retry'), leave: $('leave'),
    remote: $('remote'), rxLevel: $('rx-level'),
    micSection: $('mic-section'), mic: $('mic'), micLevel: $('mic-level'), mute: $('mute'),
    listenOnly: $('listen-only'),
  };

  // ---- options -------------------------------------------------------------
  function readOptions() {
    const frag = new URLSearchParams(location.hash.replace(/^#/, ''));
    const query = new URLSearchParams(location.search);
    const get = (k) => (frag.has(k) ? frag.get(k) : query.get(k));
    const flag = (v) => v !== null && v !== '' && v !== '0' && v !== 'false';
    return { token: (get('token') || '').trim(), relay: flag(get('relay')), raw: flag(get('raw')) };
  }
  const opts = readOptions();

  // Unverified look at the token's claims, only to show who is joining and to
  // ask for the microphone early; the server's "joined" is what counts.
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

  // ---- state visible to people and to tests ---------------------------------
  const fb = {
    state: 'connecting', // connecting | joined | media_connected | reconnecting | failed | left
    pid: null, role: null, meeting: null, delegate: null, name: null,
    canSpeak: false, live: false,
    attempt: 0,           // consecutive failed attempts (drives the backoff)
    connects: 0,          // WebSocket connections opened so far
    nextRetryMs: null,    // backoff chosen for the pending reconnect
    timings: {},          // this attempt: wsStart, wsOpen, joined, offer, answer, iceConnected, connected, firstAudio
    events: [],           // server events, oldest first (bounded)
    errors: [],           // {code, message} shown, oldest first (bounded)
    received: null, stats: null, // filled in below
  };
  window.floorbridge = fb;

  function setState(state, text) {
    fb.state = state;
    ui.stateBox.dataset.state = state;
    ui.state.textContent = text;
  }
  function showNotice(text) {
    ui.notice.textContent = text || '';
    ui.notice.hidden = !text;
  }
  function showError(code, message, title) {
    fb.errors.push({ code: String(code), message: String(message || '') });
    if (fb.errors.length > 50) fb.errors.shift();
    ui.errorTitle.textContent = title || 'The server refused:';
    ui.errorCode.textContent = String(code);
    ui.errorMessage.textContent = String(message || '');
    ui.error.hidden = false;
  }
  function clearError() { ui.error.hidden = true; }
  const ROLE_TEXT = { chair: 'Chair', delegate: 'Delegate', observer: 'Observer (listen-only)' };
  function showIdentity(name, role, meeting, extra) {
    ui.name.textContent = name ? String(name) : '—';
    const r = ROLE_TEXT[role] || (role ? String(role) : '—');
    ui.role.textContent = extra ? `${r} · ${extra}` : r;
    ui.meeting.textContent = meeting ? String(meeting) : '—';
  }

  // ---- audio: context, received-audio analysis, meters ----------------------
  let audioCtx = null;
  let rxSource = null, rxAnalyser = null, rxMeter = null;
  let micSource = null, micMeter = null;
  function ctx() {
    if (!audioCtx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      audioCtx = new AC({ latencyHint: 'interactive' });
      audioCtx.onstatechange = updateStartButton;
    }
    return audioCtx;
  }
  function updateStartButton() {
    const blocked = (audioCtx && audioCtx.state === 'suspended') || audioBlocked;
    ui.startAudio.hidden = !(blocked && remoteStream);
  }
  let audioBlocked = false;
  let remoteStream = null;

  function attachRemote(stream) {
    remoteStream = stream;
    ui.remote.srcObject = stream;
    const p = ui.remote.play();
    if (p && p.catch) p.then(() => { audioBlocked = false; updateStartButton(); },
      () => { audioBlocked = true; updateStartButton(); });
    const c = ctx();
    if (rxSource) rxSource.disconnect();
    // Chromium feeds a remote WebRTC stream to WebAudio only while the stream
    // also plays in a media element: the <audio> above does that.
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
    updateStartButton();
  }
  function detachRemote() {
    if (rxSource) { rxSource.disconnect(); rxSource = null; }
    remoteStream = null;
    ui.remote.srcObject = null;
    updateStartButton();
  }
  ui.startAudio.addEventListener('click', () => {
    if (audioCtx) audioCtx.resume().catch(() => {});
    ui.remote.play().then(() => { audioBlocked = false; updateStartButton(); }, () => {});
  });

  const meterBuf = new Float32Array(1024);
  function levelDb(analyser) {
    analyser.getFloatTimeDomainData(meterBuf);
    let s = 0;
    for (let i = 0; i < meterBuf.length; i++) s += meterBuf[i] * meterBuf[i];
    const rms = Math.sqrt(s / meterBuf.length);
    return rms > 0 ? 20 * Math.log10(rms) : -Infinity;
  }
  function drawBar(el, db) {
    const pct = Math.max(0, Math.min(100, ((db + 60) / 60) * 100)); // -60..0 dBFS
    const w = `${pct.toFixed(0)}%`;
    if (el.style.width !== w) el.style.width = w;
    el.classList.toggle('hot', db > -3);
  }
  setInterval(() => {
    if (rxMeter && rxSource) {
      const db = levelDb(rxMeter);
      drawBar(ui.rxLevel, db);
      if (cur && cur.connected && fb.timings.firstAudio === undefined && db > FIRST_AUDIO_DB) {
        fb.timings.firstAudio = performance.now();
      }
    } else drawBar(ui.rxLevel, -Infinity);
    if (micMeter) drawBar(ui.micLevel, levelDb(micMeter));
  }, 20);

  // ---- microphone -----------------------------------------------------------
  let micStream = null;
  let micPromise = null;
  let muted = false;
  const MIC_KEY = 'floorbridge.mic';
  function micTrack() { return micStream ? micStream.getAudioTracks()[0] || null : null; }
  function micConstraints(deviceId, exact) {
    const audio = {
      echoCancellation: !opts.raw, noiseSuppression: !opts.raw, autoGainControl: !opts.raw,
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
    ui.mute.disabled = false;
  }

  // Get the microphone once; kept across reconnects. Resolves to the track or
  // null (no mic / refused: the delegate still listens).
  function ensureMic() {
    const t = micTrack();
    if (t && t.readyState === 'live') return Promise.resolve(t);
    if (micPromise) return micPromise;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showNotice('This browser gives no microphone access here: you can listen only.');
      return Promise.resolve(null);
    }
    ui.micSection.hidden = false;
    micPromise = navigator.mediaDevices.getUserMedia(micConstraints(savedMic(), false))
      .then((stream) => { useMicStream(stream); refreshDevices(); return micTrack(); })
      .catch((e) => {
        showNotice(`Microphone unavailable (${e && e.name ? e.name : 'error'}): you can listen only.`);
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

  async function refreshDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    let devices;
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch (e) { return; }
    const inputs = devices.filter((d) => d.kind === 'audioinput');
    const t = micTrack();
    const currentId = t && t.getSettings ? t.getSettings().deviceId : '';
    ui.mic.replaceChildren();
    inputs.forEach((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || `Microphone ${i + 1}`;
      if (d.deviceId === currentId) o.selected = true;
      ui.mic.appendChild(o);
    });
    if (!inputs.length) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = '(no microphone found)';
      ui.mic.appendChild(o);
    }
    ui.mic.disabled = inputs.length < 2;
  }
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener('devicechange', () => { if (micStream) refreshDevices(); });
  }

  ui.mic.addEventListener('change', async () => {
    const id = ui.mic.value;
    if (!id || fb.role === 'observer') return;
    ui.mic.disabled = true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(micConstraints(id, true));
    } catch (e) {
      if (e && e.name === 'NotReadableError' && micStream) {
        // Some devices allow one capture at a time: release the old one first.
        dropMic();
        try { stream = await navigator.mediaDevices.getUserMedia(micConstraints(id, true)); } catch (e2) { e = e2; }
      }
      if (!stream) {
        showNotice(`Could not switch microphone (${e && e.name ? e.name : 'error'}).`);
        ui.mic.disabled = false;
        refreshDevices();
        return;
      }
    }
    const track = stream.getAudioTracks()[0];
    track.enabled = !muted;
    const sender = cur && cur.sender;
    if (sender) {
      try { await sender.replaceTrack(track); } catch (e) { showNotice('Could not switch microphone on the call.'); }
    }
    useMicStream(stream);
    saveMic(id);
    showNotice('');
    refreshDevices();
  });

  ui.mute.addEventListener('click', () => {
    muted = !muted;
    const t = micTrack();
    if (t) t.enabled = !muted;
    ui.mute.setAttribute('aria-pressed', String(muted));
    ui.mute.textContent = muted ? 'Unmute my microphone' : 'Mute my microphone';
  });

  // ---- one connection attempt -------------------------------------------------
  // cur = { ws, pc, sender, joined, connected, timers: [...] }; handlers of an
  // older attempt check `s === cur` and do nothing once it has been replaced.
  let cur = null;
  let retryTimer = null, countdownTimer = null, stableTimer = null;
  let gaveUp = false;
  let pingSeq = 0;

  function wsUrl() {
    return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
  }
  function send(s, obj) {
    if (s.ws && s.ws.readyState === WebSocket.OPEN) s.ws.send(JSON.stringify(Object.assign({ v: 1 }, obj)));
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
    ui.retry.hidden = true;
    try {
      s.ws = new WebSocket(wsUrl());
    } catch (e) {
      retryLater('could not open the connection');
      return;
    }
    fb.connects++;
    s.ws.onopen = () => {
      if (s !== cur) return;
      fb.timings.wsOpen = performance.now();
      send(s, { type: 'join', token: opts.token });
      later(s, JOIN_TIMEOUT_MS, () => { if (!s.joined) retryLater('the server did not answer in time'); });
      s.pingTimer = setInterval(() => ping(s), PING_EVERY_MS);
      s.timers.push(s.pingTimer);
    };
    s.ws.onmessage = (ev) => {
      if (s !== cur) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { console.warn('floorbridge: not JSON from server'); return; }
      if (!msg || typeof msg !== 'object') return;
      handle(s, msg).catch((e) => { if (s === cur) retryLater(`setup failed (${e && e.name ? e.name : e})`); });
    };
    s.ws.onerror = () => { /* a close follows */ };
    s.ws.onclose = (ev) => {
      if (s !== cur) return;
      retryLater(ev.code === 1000 || ev.code === 1005 ? 'the server closed the connection'
        : `connection lost (${ev.code})`);
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
        return;
      }
      case 'event': return onEvent(s, msg);
      case 'error': return onError(s, msg);
      default: console.warn('floorbridge: unknown message type'); return;
    }
  }

  async function onJoined(s, msg) {
    if (s.joined) return;
    s.joined = true;
    fb.timings.joined = performance.now();
    fb.pid = msg.pid;
    fb.role = msg.role;
    fb.meeting = msg.meeting; fb.delegate = msg.delegate; fb.name = msg.name;
    fb.canSpeak = !!msg.can_speak; fb.live = !!msg.live;
    clearError();
    const observer = msg.role === 'observer';
    showIdentity(msg.name, msg.role, msg.meeting, observer ? '' : msg.live ? 'on the floor' : msg.can_speak ? 'may speak' : '');
    setState('joined', 'Joined — connecting audio…');
    ui.leave.hidden = false;
    ui.listenOnly.hidden = !observer;
    ui.micSection.hidden = observer;
    if (observer) { dropMic(); ui.mute.disabled = true; }

    const iceServers = Array.isArray(msg.ice_servers)
      ? msg.ice_servers.filter((x) => x && x.urls).map((x) => {
        const o = { urls: x.urls };
        if (x.username !== undefined) o.username = x.username;
        if (x.credential !== undefined) o.credential = x.credential;
        return o;
      })
      : [];
    if (opts.relay && !iceServers.length) {
      showError('no_relay', 'Relay-only mode was requested, but the server offers no TURN relay.', 'Cannot connect:');
    }
    const pc = new RTCPeerConnection({
      iceServers, iceTransportPolicy: opts.relay ? 'relay' : 'all',
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
          'replaced', 'This delegate joined from somewhere else, so this page has stopped. Choose “Rejoin here” to take the audio back.',
          'Replaced:');
        ui.retry.textContent = 'Rejoin here';
        ui.retry.hidden = false;
        break;
      default:
        break;
    }
  }

  function onError(s, msg) {
    const code = String(msg.code || 'error');
    const message = String(msg.message || '');
    if (/^token_/.test(code)) {
      stop('failed', `Failed: ${code}`, code, message, 'Cannot join:');
      return;
    }
    showError(code, message);
    // Refused while setting up: this attempt is over; try again later. Once
    // media flows, an error only answers one message and changes nothing.
    if (!s.connected) retryLater(`the server refused (${code})`);
  }

  // ---- teardown, backoff, give up ------------------------------------------
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
  }

  function retryLater(reason) {
    if (gaveUp) return;
    teardown(false);
    const base = Math.min(BACKOFF_MAX_S, 2 ** Math.min(fb.attempt, 5));
    const delayMs = Math.round(Math.min(BACKOFF_MAX_S, base * (0.75 + Math.random() * 0.5)) * 1000);
    fb.attempt++;
    fb.nextRetryMs = delayMs;
    showNotice(reason ? `${reason[0].toUpperCase()}${reason.slice(1)}.` : '');
    const due = Date.now() + delayMs;
    const tick = () => {
      const left = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      setState('reconnecting', `Reconnecting in ${left} s…`);
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
    retryTimer = setTimeout(() => { clearInterval(countdownTimer); connect(); }, delayMs);
    ui.retry.textContent = 'Try again now';
    ui.retry.hidden = false;
  }

  function stop(state, text, code, message, title) {
    gaveUp = true;
    teardown(false);
    clearTimeout(retryTimer); clearInterval(countdownTimer);
    fb.nextRetryMs = null;
    setState(state, text);
    showNotice('');
    if (code) showError(code, message, title);
    ui.leave.hidden = true;
  }

  ui.retry.addEventListener('click', () => {
    fb.attempt = 0;
    clearError();
    teardown(false);
    connect();
  });
  ui.leave.addEventListener('click', () => {
    gaveUp = true;
    teardown(true);
    clearTimeout(retryTimer); clearInterval(countdownTimer);
    dropMic();
    micMeter = null;
    setState('left', 'You left the meeting');
    showNotice('');
    ui.leave.hidden = true;
    ui.retry.textContent = 'Rejoin';
    ui.retry.hidden = false;
  });
  window.addEventListener('pagehide', () => { if (cur) teardown(true); });

  // ---- test hooks -----------------------------------------------------------
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

  // ---- start ----------------------------------------------------------------
  if (!opts.token) {
    stop('failed', 'Failed: no join token', 'no_token',
      'This link has no join token. Open the exact link you were given (it ends in #token=…).', 'Cannot join:');
    return;
  }
  const claims = peekToken(opts.token);
  if (claims) {
    showIdentity(typeof claims.name === 'string' ? claims.name : '', typeof claims.role === 'string' ? claims.role : '',
      typeof claims.mtg === 'string' ? claims.mtg : '');
    // Ask for the microphone while the connection is set up (never for observers).
    if (claims.role === 'chair' || claims.role === 'delegate') ensureMic();
  }
  connect();
})();
