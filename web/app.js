/*
 * app.js — the floorbridge delegate page (plain JS, no build step; the
 * connection engine is in common.js).
 *
 * Link: index.html#token=JWT[&relay=1][&raw=1]  (?token=JWT also works)
 *   relay=1  only use TURN relays (iceTransportPolicy "relay")
 *   raw=1    no echo cancellation / noise suppression / gain control on the mic
 *            (for tests playing tones; a real delegate keeps the defaults)
 *
 * Flow: WebSocket /ws (same origin) → join{token} → joined{...} → (mic unless
 * observer) → RTCPeerConnection → offer{sdp} sent at once (the server is
 * ICE-lite and learns our address from our checks) → answer{sdp} → media.
 * Then the floor protocol (signalling/PROTOCOL.md): you{state, ...} drives the
 * banner, the "Request to speak" / "Withdraw" button and the mute button;
 * mode{...} switches to the webcast-only view (no request button, nothing sent:
 * the sender's track is removed, the mic stays open for the level meter);
 * chat{...} and chat_policy{...} drive the chat panel; roster{count} the count.
 * Every server-provided string goes to the DOM through textContent only.
 *
 * Observers: they see the mode banner and READ the chat (messages the server
 * sends them), but cannot post: the compose form is hidden. They never ask for
 * a microphone and have no floor controls. (Decision: observers are the
 * public's seats in the meeting room — they follow what is said, they do not
 * take part.)
 *
 * Reconnects after a WebSocket drop or a media failure with exponential
 * backoff (1, 2, 4 … 30 s, ±25 % jitter), same token; gives up on token_*
 * errors and on "replaced" (this delegate joined elsewhere).
 *
 * For tests: window.floorbridge = { state, pid, role, received, stats(),
 * timings, events, errors, messages, send(obj), you, mode, chat, chatPolicy,
 * rosterCount } (see common.js and the end of this file).
 */
'use strict';
(() => {
  const C = window.FBCommon;
  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $('state'), stateBox: $('state').parentElement, notice: $('notice'),
    error: $('error'), errorTitle: $('error-title'), errorCode: $('error-code'),
    errorMessage: $('error-message'), errorDismiss: $('error-dismiss'),
    name: $('who-name'), role: $('who-role'), meeting: $('who-meeting'),
    sessionRow: $('who-session-row'), session: $('who-session'),
    startAudio: $('start-audio'), retry: $('retry'), leave: $('leave'),
    remote: $('remote'), rxLevel: $('rx-level'), rosterCount: $('roster-count'),
    micSection: $('mic-section'), mic: $('mic'), micLevel: $('mic-level'), mute: $('mute'),
    micHint: $('mic-hint'),
    listenOnly: $('listen-only'),
    floor: $('floor-section'), banner: $('floor-banner'), floorText: $('floor-text'),
    floorDetail: $('floor-detail'), request: $('request'), requestHint: $('request-hint'),
    chat: $('chat-section'), chatLog: $('chat-log'), chatEmpty: $('chat-empty'), chatForm: $('chat-form'),
    chatTo: $('chat-to'), chatText: $('chat-text'), chatSend: $('chat-send'), chatNote: $('chat-note'),
  };
  const opts = C.readOptions();

  // ---- connection UI ----------------------------------------------------------
  function setState(state, text) {
    ui.stateBox.dataset.state = state;
    ui.state.textContent = text;
  }
  function showNotice(text) {
    ui.notice.textContent = text || '';
    ui.notice.hidden = !text;
  }
  function showError(code, message, title) {
    ui.errorTitle.textContent = title || 'The server refused:';
    ui.errorCode.textContent = String(code);
    ui.errorMessage.textContent = String(message || C.ERROR_TEXT[code] || '');
    ui.error.hidden = false;
  }
  function clearError() { ui.error.hidden = true; }
  ui.errorDismiss.addEventListener('click', clearError);
  const ROLE_TEXT = { chair: 'Chair', delegate: 'Delegate', observer: 'Observer (listen-only)' };
  function showIdentity(name, role, meeting, extra) {
    ui.name.textContent = name ? String(name) : '—';
    const r = ROLE_TEXT[role] || (role ? String(role) : '—');
    ui.role.textContent = extra ? `${r} · ${extra}` : r;
    ui.meeting.textContent = meeting ? String(meeting) : '—';
  }
  function drawBar(el, db) {
    const pct = Math.max(0, Math.min(100, ((db + 60) / 60) * 100)); // -60..0 dBFS
    const w = `${pct.toFixed(0)}%`;
    if (el.style.width !== w) el.style.width = w;
    el.classList.toggle('hot', db > -3);
  }

  const client = C.createClient({
    token: opts.token, relay: opts.relay, raw: opts.raw, audio: ui.remote,
    hooks: {
      state: setState,
      notice: showNotice,
      error: showError,
      clearError,
      buttons: ({ retry, leave }) => {
        ui.retry.hidden = !retry;
        if (retry) ui.retry.textContent = retry;
        ui.leave.hidden = !leave;
      },
      audioBlocked: (blocked) => { ui.startAudio.hidden = !blocked; },
      levels: (rx, mic) => { drawBar(ui.rxLevel, rx); drawBar(ui.micLevel, mic); },
      micStart: () => { ui.micSection.hidden = false; },
      micReady: () => { refreshMute(); refreshDevices(); },
      micError: showNotice,
      joined: onJoined,
      message: onMessage,
      disconnected: () => { firstYou = true; },
    },
  });
  const fb = client.fb;
  fb.you = null; fb.mode = null; fb.chat = []; fb.chatPolicy = null; fb.rosterCount = null;

  ui.startAudio.addEventListener('click', () => client.resumeAudio());
  ui.retry.addEventListener('click', () => client.retryNow());
  ui.leave.addEventListener('click', () => client.leave());

  // ---- microphone devices ---------------------------------------------------------
  async function refreshDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    let devices;
    try { devices = await navigator.mediaDevices.enumerateDevices(); } catch (e) { return; }
    const inputs = devices.filter((d) => d.kind === 'audioinput');
    const t = client.micTrack();
    const currentId = t && t.getSettings ? t.getSettings().deviceId : '';
    ui.mic.replaceChildren();
    inputs.forEach((d, i) => {
      ui.mic.appendChild(C.h('option', { value: d.deviceId, selected: d.deviceId === currentId },
        d.label || `Microphone ${i + 1}`));
    });
    if (!inputs.length) ui.mic.appendChild(C.h('option', { value: '' }, '(no microphone found)'));
    ui.mic.disabled = inputs.length < 2;
  }
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener('devicechange', () => { if (client.micTrack()) refreshDevices(); });
  }
  ui.mic.addEventListener('change', async () => {
    const id = ui.mic.value;
    if (!id || fb.role === 'observer') return;
    ui.mic.disabled = true;
    const problem = await client.switchMic(id);
    showNotice(problem);
    refreshDevices();
  });

  // ---- joined ---------------------------------------------------------------------
  function onJoined(msg) {
    const observer = msg.role === 'observer';
    showIdentity(msg.name, msg.role, msg.meeting, observer ? '' : msg.live ? 'on the floor' : msg.can_speak ? 'may speak' : '');
    ui.listenOnly.hidden = !observer;
    ui.micSection.hidden = observer;
    if (observer) ui.mute.disabled = true;
    render();
    return true;
  }

  // ---- the floor ------------------------------------------------------------------
  let firstYou = true;      // the first "you" after (re)joining adopts the server's self-mute
  let sentMute = null;      // the self-mute value we last told the server (null: in sync)
  const ordinalQueue = (n) => `You are ${C.ordinal(n)} in the queue${n === 1 ? ' — next to speak' : ''}`;

  function webcast() { return !!(fb.mode && fb.mode.mode === 'webcast'); }

  function onMessage(msg) {
    switch (msg.type) {
      case 'you': {
        const you = {
          state: String(msg.state || 'listening'),
          chair_muted: !!msg.chair_muted, self_muted: !!msg.self_muted,
          queue_position: Number(msg.queue_position) || 0,
          bar_reason: msg.bar_reason ? String(msg.bar_reason) : '',
        };
        fb.you = you;
        if (firstYou) {
          firstYou = false;
          if (you.self_muted && !client.muted) client.setMuted(true);
        }
        if (sentMute !== null && you.self_muted === sentMute) sentMute = null;
        syncMute();
        break;
      }
      case 'mode':
        fb.mode = {
          mode: msg.mode === 'webcast' ? 'webcast' : 'interactive',
          session: msg.session && typeof msg.session === 'object' ? msg.session : null,
          sessions: Array.isArray(msg.sessions) ? msg.sessions : [],
        };
        client.setUplink(!webcast());
        break;
      case 'roster':
        if (Number.isFinite(Number(msg.count)) && msg.count !== null && msg.count !== undefined) fb.rosterCount = Number(msg.count);
        else if (Array.isArray(msg.participants)) fb.rosterCount = msg.participants.filter((p) => p && p.connected !== false).length;
        break;
      case 'chat_policy':
        fb.chatPolicy = { delegates_to_all: !!msg.delegates_to_all, enabled: msg.enabled !== false };
        break;
      case 'chat':
        addChat(msg);
        break;
      default:
        return; // queue, quality and anything newer: not for this page
    }
    render();
  }

  // Tell the server about our own mute when it matters (we hold the floor).
  function syncMute() {
    const you = fb.you;
    if (!you || you.chair_muted || webcast()) return;
    if ((you.state === 'live' || you.state === 'muted') && you.self_muted !== client.muted && sentMute !== client.muted) {
      sentMute = client.muted;
      client.send({ type: 'mute', on: client.muted });
    }
  }

  ui.request.addEventListener('click', () => {
    // Withdraw leaves the queue, or yields the floor when we hold it.
    const st = fb.you ? fb.you.state : 'listening';
    if (st === 'queued' || st === 'live' || st === 'muted') client.send({ type: 'withdraw' });
    else client.send({ type: 'request_floor' });
  });

  ui.mute.addEventListener('click', () => {
    if (fb.you && fb.you.chair_muted) return;
    client.setMuted(!client.muted);
    syncMute();
    refreshMute();
  });

  function refreshMute() {
    const chairMuted = !!(fb.you && fb.you.chair_muted);
    const observer = fb.role === 'observer';
    ui.mute.disabled = observer || !client.micTrack() || chairMuted;
    ui.mute.setAttribute('aria-pressed', String(client.muted || chairMuted));
    ui.mute.dataset.chairMuted = String(chairMuted);
    if (chairMuted) {
      C.setText(ui.mute, 'Muted by the chair');
      C.setText(ui.micHint, 'The chair has muted you. Only the chair can unmute you; ask in the chat if you need to.');
    } else {
      C.setText(ui.mute, client.muted ? 'Unmute my microphone' : 'Mute my microphone');
      C.setText(ui.micHint, webcast()
        ? 'Webcast-only session: nothing from your microphone is sent; the level bar still shows it.'
        : 'While muted the meeting hears silence from you; the level bar still shows your microphone.');
    }
  }

  function banner(kind, title, detail) {
    ui.banner.dataset.floor = kind;
    C.setText(ui.floorText, title);
    C.setText(ui.floorDetail, detail || '');
    ui.floorDetail.hidden = !detail;
  }

  function renderFloor() {
    const you = fb.you;
    const observer = fb.role === 'observer';
    const hasFloorProtocol = !!(you || fb.mode);
    ui.floor.hidden = !hasFloorProtocol || (observer && !fb.mode);
    if (ui.floor.hidden) return;
    let showRequest = false, requestText = 'Request to speak', requestDisabled = false, hint = '';
    if (webcast()) {
      const s = fb.mode.session && fb.mode.session.name ? String(fb.mode.session.name) : '';
      banner('webcast', 'Webcast only — listening',
        `${s ? `${s}: ` : ''}this session is a webcast. Remote participants listen; nobody remote can speak or request the floor.` +
        (you && you.state === 'barred' ? ` You are also barred from the floor${you.bar_reason ? `: ${you.bar_reason}` : ''}.` : ''));
    } else if (observer) {
      banner('listening', 'Listening', 'Observers follow the meeting and cannot take the floor.');
    } else if (!you) {
      banner('listening', 'Listening', '');
    } else {
      switch (you.state) {
        case 'queued':
          banner('queued', 'Waiting for the floor',
            you.queue_position > 0 ? ordinalQueue(you.queue_position) : 'You are in the queue');
          showRequest = true; requestText = 'Withdraw';
          break;
        case 'live':
          showRequest = true; requestText = 'Finish speaking';
          if (client.muted) banner('muted', 'You have the floor — your microphone is muted', 'Unmute your microphone to be heard.');
          else banner('live', 'You have the floor', 'The meeting hears you. “Finish speaking” gives the floor back.');
          break;
        case 'muted':
          showRequest = true; requestText = 'Finish speaking';
          if (you.chair_muted) banner('chair-muted', 'Muted by the chair', 'You keep the floor, but the chair has muted your microphone. Only the chair can unmute you.');
          else banner('muted', 'You have the floor — your microphone is muted', 'Unmute your microphone to be heard.');
          break;
        case 'barred':
          banner('barred', `Barred from the floor${you.bar_reason ? `: ${you.bar_reason}` : ''}`,
            'The chair has cut your audio. Your microphone keeps being checked; when it is good again the chair can allow you back.');
          showRequest = true; requestDisabled = true;
          hint = 'You cannot request the floor while barred.';
          break;
        default:
          banner('listening', 'Listening', 'You hear the meeting. To speak, request the floor: the chair gives it in turn.');
          showRequest = true;
          break;
      }
    }
    ui.request.hidden = !showRequest;
    C.setText(ui.request, requestText);
    ui.request.disabled = requestDisabled || !client.joined;
    ui.request.dataset.action = requestText === 'Request to speak' ? 'request' : 'withdraw';
    C.setText(ui.requestHint, hint);
    ui.requestHint.hidden = !hint;
  }

  function renderMeeting() {
    const m = fb.mode;
    if (m && m.session && m.session.name !== undefined) {
      ui.sessionRow.hidden = false;
      C.setText(ui.session, `${String(m.session.name)}${m.mode === 'webcast' ? ' (webcast only)' : ''}`);
    } else if (m) {
      ui.sessionRow.hidden = false;
      C.setText(ui.session, m.mode === 'webcast' ? 'Webcast only' : 'Interactive');
    }
    if (fb.rosterCount !== null) {
      ui.rosterCount.hidden = false;
      C.setText(ui.rosterCount, `${fb.rosterCount} ${fb.rosterCount === 1 ? 'participant' : 'participants'} connected`);
    }
  }

  // ---- chat -----------------------------------------------------------------------
  const CHAT_KEPT = 200;
  function addChat(msg) {
    const m = {
      from: String(msg.from || ''), name: String(msg.name || msg.from || '?'),
      to: msg.to === 'chair' ? 'chair' : 'all', text: String(msg.text || ''), ts_ms: Number(msg.ts_ms) || Date.now(),
    };
    fb.chat.push(m);
    if (fb.chat.length > CHAT_KEPT) fb.chat.shift();
    const mine = m.from && m.from === fb.delegate;
    const li = C.chatItem(m, { mine });
    const atBottom = ui.chatLog.scrollHeight - ui.chatLog.scrollTop - ui.chatLog.clientHeight < 40;
    ui.chatLog.appendChild(li);
    while (ui.chatLog.children.length > CHAT_KEPT) ui.chatLog.firstElementChild.remove();
    if (atBottom || mine) ui.chatLog.scrollTop = ui.chatLog.scrollHeight;
  }
  function renderChat() {
    const show = !!(fb.chatPolicy || fb.chat.length);
    ui.chat.hidden = !show;
    if (!show) return;
    ui.chatEmpty.hidden = fb.chat.length > 0;
    const observer = fb.role === 'observer';
    const enabled = !fb.chatPolicy || fb.chatPolicy.enabled;
    ui.chatForm.hidden = observer || !enabled;
    let note = '';
    if (!enabled) {
      note = 'The chat is turned off for this meeting.';
    } else if (observer) {
      note = 'Observers can read the meeting chat but cannot post.';
    } else {
      const toAll = !fb.chatPolicy || fb.chatPolicy.delegates_to_all || fb.role === 'chair';
      const optAll = ui.chatTo.querySelector('option[value="all"]');
      optAll.disabled = !toAll;
      if (!toAll) {
        ui.chatTo.value = 'chair';
        note = 'The chair allows messages to the chair only.';
      }
      ui.chatSend.disabled = !client.joined;
    }
    C.setText(ui.chatNote, note);
    ui.chatNote.hidden = !note;
  }
  ui.chatForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ui.chatText.value.trim();
    if (!text) return;
    if (client.send({ type: 'chat', to: ui.chatTo.value === 'chair' ? 'chair' : 'all', text })) ui.chatText.value = '';
  });

  function render() {
    renderFloor();
    renderMeeting();
    renderChat();
    refreshMute();
  }
  // The connection state decides whether buttons work; redraw on a slow timer too.
  setInterval(render, 1000);

  // ---- start ----------------------------------------------------------------------
  if (!opts.token) {
    client.stop('failed', 'Failed: no join token', 'no_token',
      'This link has no join token. Open the exact link you were given (it ends in #token=…).', 'Cannot join:');
    return;
  }
  const claims = C.peekToken(opts.token);
  if (claims) {
    showIdentity(typeof claims.name === 'string' ? claims.name : '', typeof claims.role === 'string' ? claims.role : '',
      typeof claims.mtg === 'string' ? claims.mtg : '');
    // Ask for the microphone while the connection is set up (never for observers).
    if (claims.role === 'chair' || claims.role === 'delegate') client.ensureMic();
  }
  client.connect();
})();
