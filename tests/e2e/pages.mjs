// pages.mjs — reading the pages under test: the chair console's and the
// delegate page's DOM as plain objects (run in the browser through
// page.evaluate), and short page summaries for error messages. Re-exported by
// harness.mjs.

export const CONSOLE_VIEWPORT = { width: 1366, height: 768 };

/** The console's DOM, read in the page: { rows: [{delegate, name, role,
 * state (badge data-state), badge, reason, mos (text), mosValue (number or
 * null), quality (good|fair|poor|none), flagged, recovered, time, connected,
 * selected, actions: {act: enabled}}], queue: [{delegate, name, pos, wait}],
 * mode, session, chat: [{from, name, to, text}], chatPolicy, toasts: [{code,
 * text}], conn, me, gate (text or null), details }. Runs in the browser. */
export function readConsole() {
  const q = (sel, root = document) => root.querySelector(sel);
  const txt = (el) => (el ? el.textContent.trim() : null);
  const rows = [...document.querySelectorAll('#parts-body tr')].map((tr) => {
    const actions = {};
    tr.querySelectorAll('button[data-act]').forEach((b) => { if (!b.hidden) actions[b.dataset.act] = !b.disabled; });
    const mos = txt(q('.mos', tr));
    return {
      delegate: tr.dataset.delegate, name: txt(q('.p-name', tr)), role: txt(q('.p-role', tr)) || 'delegate',
      state: q('.badge', tr).dataset.state, badge: txt(q('.badge', tr)), reason: txt(q('.p-reason', tr)),
      mos, mosValue: /^[0-9.]+$/.test(mos || '') ? Number(mos) : null, quality: q('.mos', tr).dataset.q,
      flagged: !q('.flag', tr).hidden, recovered: !q('.recovered', tr).hidden,
      time: txt(q('.c-time', tr)), connected: !tr.classList.contains('offline'),
      selected: tr.getAttribute('aria-selected') === 'true', actions,
    };
  });
  const queue = [...document.querySelectorAll('#queue-list li')].map((li) => ({
    delegate: li.dataset.delegate, name: txt(q('.q-name', li)), pos: txt(q('.q-pos', li)), wait: txt(q('.q-wait', li)),
  }));
  const chat = [...document.querySelectorAll('#chat-log li')].map((li) => ({
    from: li.dataset.from, name: txt(q('.chat-from', li)), to: li.dataset.to, text: q('.chat-text', li).textContent,
  }));
  const toasts = [...document.querySelectorAll('#toasts .toast')].map((t) => ({ code: t.dataset.code, text: txt(q('.toast-msg', t)) }));
  const gate = q('#gate');
  return {
    rows, queue, chat, toasts,
    mode: q('#mode-webcast').getAttribute('aria-pressed') === 'true' ? 'webcast' : 'interactive',
    session: txt(q('#session-name')),
    chatPolicy: q('#chat-policy').checked,
    conn: q('#conn').dataset.state, me: txt(q('#me-state')),
    gate: gate && !gate.hidden ? txt(gate) : null,
    details: q('#metrics').hidden ? null : Object.fromEntries([...document.querySelectorAll('#metrics dd')].map((dd) => [dd.dataset.metric, dd.textContent])),
  };
}

/** The delegate page's floor, mute and chat view, read in the page. */
export function readDelegate() {
  const q = (sel) => document.querySelector(sel);
  const vis = (el) => !!el && !el.hidden && !el.closest('[hidden]');
  const req = q('#request');
  const mute = q('#mute');
  return {
    floorVisible: vis(q('#floor-section')),
    banner: q('#floor-banner').dataset.floor,
    title: q('#floor-text').textContent.trim(),
    detail: q('#floor-detail').textContent.trim(),
    request: vis(req) ? { text: req.textContent.trim(), disabled: req.disabled } : null,
    mute: { text: mute.textContent.trim(), disabled: mute.disabled, visible: vis(mute), hint: q('#mic-hint').textContent.trim() },
    chatVisible: vis(q('#chat-section')), chatFormVisible: vis(q('#chat-form')),
    chatToAllDisabled: q('#chat-to option[value="all"]').disabled,
    chatNote: vis(q('#chat-note')) ? q('#chat-note').textContent.trim() : null,
    chat: [...document.querySelectorAll('#chat-log li')].map((li) => ({
      from: li.dataset.from, name: li.querySelector('.chat-from').textContent, to: li.dataset.to,
      text: li.querySelector('.chat-text').textContent,
    })),
    you: window.floorbridge ? window.floorbridge.you : null,
    mode: window.floorbridge && window.floorbridge.mode ? window.floorbridge.mode.mode : null,
  };
}

/** The floor view of either page, for error messages. */
export async function floorInfo(page) {
  try {
    return await page.evaluate(({ c, d }) => {
      // eslint-disable-next-line no-new-func
      const f = new Function(`return (${document.getElementById('parts-body') ? c : d})`)();
      const v = f();
      if (v.chat) v.chat = v.chat.length;
      return v;
    }, { c: readConsole.toString(), d: readDelegate.toString() });
  } catch (e) {
    return { error: e.message.split('\n')[0] };
  }
}

/** What a page shows about itself, for error messages. */
export async function pageInfo(page) {
  try {
    return await page.evaluate(() => {
      const fb = window.floorbridge;
      const el = (id) => { const e = document.getElementById(id); return e && !e.hidden ? e.textContent.trim() : null; };
      return fb ? {
        state: fb.state, text: el('state'), notice: el('notice'), error: el('error'),
        attempt: fb.attempt, connects: fb.connects, timings: fb.timings, events: fb.events,
      } : { state: 'no window.floorbridge', url: location.href.replace(/token=[^&]*/, 'token=…') };
    });
  } catch (e) {
    return { error: e.message };
  }
}
