// Checkout page behaviour: copy buttons, the countdown, and live state (SSE, polling fallback).
// Plain ES2017 with no dependencies; every string comes from the page's data-msgs (i18n/en.ts).
(() => {
  const root = document.getElementById('checkout');
  if (!root) return;
  const msgs = JSON.parse(root.dataset.msgs);
  const skew = Date.parse(root.dataset.now) - Date.now();
  const final = { complete: 1, expired: 1, cancelled: 1 };
  const $ = (id) => document.getElementById(id);

  for (const button of document.querySelectorAll('[data-copy]')) {
    button.addEventListener('click', () => {
      const text = button.dataset.copy;
      const done = () => {
        const label = button.textContent;
        button.textContent = msgs.copied;
        setTimeout(() => {
          button.textContent = label;
        }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
      } else fallbackCopy(text, done);
    });
  }
  function fallbackCopy(text, done) {
    const area = document.createElement('textarea');
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
    done();
  }

  const clock = $('countdown');
  const pad = (n) => String(n).padStart(2, '0');
  function tickClock() {
    if (!clock) return;
    const s = Math.max(
      0,
      Math.floor((Date.parse(clock.getAttribute('datetime')) - Date.now() - skew) / 1000),
    );
    clock.textContent =
      s >= 3600
        ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`
        : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
  }
  tickClock();
  setInterval(tickClock, 1000);

  let version = -1;
  function show(state) {
    if (state.version <= version) return;
    version = state.version;
    const section = $('state');
    section.className = `state state-${state.status}`;
    $('state-title').textContent = msgs.status[state.status] || state.status;
    const underpaid = state.status === 'issue_detected' && state.shortfall !== '0' && state.asset;
    $('state-text').textContent = underpaid
      ? msgs.underpaid.replace('{shortfall}', state.shortfall).replace('{asset}', state.asset)
      : msgs.explain[state.status] || '';
    $('confirmations').textContent =
      state.confirmations && state.status !== 'complete'
        ? msgs.confirmations.replace('{n}', state.confirmations.n).replace('{of}', state.confirmations.of)
        : '';
    const pay = $('pay');
    // A new shortfall needs a new QR code (for the remainder), which only the server draws.
    if (underpaid && pay && pay.dataset.shortfall !== state.shortfall) return location.reload();
    if (pay) pay.hidden = !(state.status === 'waiting_for_payment' || state.status === 'issue_detected');
    if ($('success-link')) $('success-link').hidden = state.status !== 'complete';
    if ($('cancel-link')) $('cancel-link').hidden = state.status === 'complete';
    if (final[state.status]) stop();
  }
  show(JSON.parse(root.dataset.state));

  let source = null;
  let poller = null;
  function stop() {
    if (source) source.close();
    if (poller) clearInterval(poller);
    source = null;
    poller = null;
  }
  function poll() {
    if (poller) return;
    const once = () =>
      fetch(root.dataset.statusUrl, { cache: 'no-store' })
        .then((r) => (r.ok ? r.json() : null))
        .then(
          (s) => s && show(s),
          () => {},
        );
    once();
    poller = setInterval(once, 3000);
  }
  if (final[JSON.parse(root.dataset.state).status]) return;
  if (!window.EventSource) return poll();
  source = new EventSource(root.dataset.eventsUrl);
  source.addEventListener('state', (e) => show(JSON.parse(e.data)));
  // EventSource retries by itself; when the server or a proxy refuses the stream, poll instead.
  source.onerror = () => {
    if (source && source.readyState === EventSource.CLOSED) {
      source = null;
      poll();
    }
  };
})();
