/* Parley "Chat with us" button for business websites.
 *
 *   <script src="https://HOST/embed/chat-button.js" data-phone="4915100000001"
 *           data-text="Hello!" data-ref="spring-sale" async></script>
 *
 * data-phone  the business's number, digits with the country code (required)
 * data-text   text put into the customer's composer (at most 140 characters)
 * data-ref    a campaign reference; the business's webhook gets it as referral.source_id
 * data-label  the button's text (default: "Chat with us" / "Chatte mit uns")
 * data-inline "true": the button goes where the script is, instead of the corner
 * data-mode   "live": the button opens a chat panel on this page instead (below)
 * data-title  live mode: the panel's heading (default "Chat with us")
 *
 * The button is a link to https://HOST/c/<phone>?text=…&ref=…&src=website_button&source_url=<this page>:
 * the chat it opens sends referral.source_type "website_button" with the
 * page's address (without query or fragment) in the first message.
 * It sets no cookies and loads nothing else.
 *
 * Live mode (data-mode="live"): visitors chat with the business's agents
 * right here, without an account (docs/inbox.md, "Website chat"). The
 * business must allow this website's origin (inbox settings or the
 * operator). The visitor's identity (a random id and token from
 * https://HOST/webchat/v1/<phone>/sessions) stays in this site's
 * localStorage; messages are shown as text, never as HTML. "Continue in
 * the Parley app" asks for the visitor's number and shows a click-to-chat
 * link with a one-time reference: the chat moves to the messenger when
 * the visitor sends the prefilled message from that number. */
(function () {
  var s = document.currentScript;
  if (!s || !s.src) return;
  var origin = new URL(s.src).origin;
  var d = s.dataset;
  var phone = String(d.phone || '').replace(/[\s\-().+]/g, '');
  if (!/^[1-9][0-9]{7,14}$/.test(phone)) {
    console.error('Parley chat button: data-phone must be the number in digits with the country code, e.g. 4915100000001');
    return;
  }
  var text = String(d.text || '');
  if (Array.from(text).length > 140) {
    console.error('Parley chat button: data-text is longer than 140 characters');
    return;
  }
  var q = new URLSearchParams();
  if (text) q.set('text', text);
  if (d.ref) q.set('ref', String(d.ref).slice(0, 128));
  q.set('src', 'website_button');
  q.set('source_url', location.origin + location.pathname);
  var de = /^de\b/i.test(navigator.language || '');
  var label = d.label || (de ? 'Chatte mit uns' : 'Chat with us');
  if (d.mode === 'live') {
    live(origin, phone, d, de, label, s);
    return;
  }

  var a = document.createElement('a');
  a.href = origin + '/c/' + phone + '?' + q.toString();
  a.target = '_blank';
  a.rel = 'noopener';
  a.className = 'parley-chat-button';
  a.setAttribute('data-parley', 'chat-button');
  var NS = 'http://www.w3.org/2000/svg';
  var icon = document.createElementNS(NS, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('width', '20');
  icon.setAttribute('height', '20');
  icon.setAttribute('aria-hidden', 'true');
  icon.setAttribute('focusable', 'false');
  var path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M4 4h16a2 2 0 012 2v10a2 2 0 01-2 2H9l-5 4v-4a2 2 0 01-2-2V6a2 2 0 012-2z');
  path.setAttribute('fill', 'currentColor');
  icon.appendChild(path);
  a.appendChild(icon);
  var span = document.createElement('span');
  span.textContent = label;
  a.appendChild(span);
  var hint = document.createElement('span');
  hint.textContent = de ? ' (öffnet in einem neuen Fenster)' : ' (opens in a new window)';
  hint.style.cssText = 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap';
  a.appendChild(hint);

  // Colours with a contrast ratio above 7:1; a visible focus ring.
  a.style.cssText = 'display:inline-flex;align-items:center;gap:.5em;padding:.7em 1.1em;border-radius:999px;' +
    'background:#0a6e5c;color:#fff;font:600 16px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
    'text-decoration:none;box-shadow:0 2px 8px rgba(0,0,0,.25);z-index:2147483000';
  a.addEventListener('focus', function () { a.style.outline = '3px solid #0b57d0'; a.style.outlineOffset = '3px'; });
  a.addEventListener('blur', function () { a.style.outline = ''; });
  if (d.inline === 'true') {
    s.parentNode.insertBefore(a, s.nextSibling);
  } else {
    a.style.position = 'fixed';
    a.style.right = '20px';
    a.style.bottom = '20px';
    var add = function () { document.body.appendChild(a); };
    if (document.body) add(); else document.addEventListener('DOMContentLoaded', add);
  }

  // The live chat panel (data-mode="live").
  function live(origin, phone, d, de, label, script) {
    var T = de ? {
      title: 'Chat mit uns', close: 'Chat schließen', message: 'Deine Nachricht', send: 'Senden',
      empty: 'Schreib uns – wir antworten hier.', you: 'Du', them: 'Wir', offline: 'Verbindung unterbrochen – neuer Versuch …',
      failed: 'Nicht gesendet: ', moveBtn: 'In der Parley-App weiterschreiben', phoneLabel: 'Deine Telefonnummer (mit Ländervorwahl)',
      getLink: 'Link holen', moveHint: 'Öffne den Link und sende die vorbereitete Nachricht von dieser Nummer aus. Erst dann zieht der Chat in die App um.',
      openApp: 'Chat in Parley öffnen', moved: 'Dieser Chat geht in der Parley-App weiter.', prefill: 'Ich setze meinen Chat von eurer Website fort',
      notAllowed: 'Der Chat ist auf dieser Website nicht eingerichtet.', busy: 'Zu viele Nachrichten – bitte kurz warten.'
    } : {
      title: 'Chat with us', close: 'Close the chat', message: 'Your message', send: 'Send',
      empty: 'Write to us – we answer here.', you: 'You', them: 'Us', offline: 'Connection lost – reconnecting …',
      failed: 'Not sent: ', moveBtn: 'Continue in the Parley app', phoneLabel: 'Your phone number (with the country code)',
      getLink: 'Get the link', moveHint: 'Open the link and send the prepared message from this number. Only then does the chat move to the app.',
      openApp: 'Open the chat in Parley', moved: 'This chat continues in the Parley app.', prefill: 'Continuing my chat from your website',
      notAllowed: 'The chat is not set up for this website.', busy: 'Too many messages – please wait a moment.'
    };
    var api = origin + '/webchat/v1/' + phone;
    var key = 'parley-webchat:' + origin + ':' + phone;
    var ident = null;
    try { ident = JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { ident = null; }
    var seen = {};
    var last = 0;
    var streaming = false;
    var stream = null;
    var backoff = 1000;
    var FONT = 'font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;';

    function el(tag, css, text) {
      var e = document.createElement(tag);
      if (css) e.style.cssText = css;
      if (text != null) e.textContent = text;
      return e;
    }
    function ring(e) {
      e.addEventListener('focus', function () { e.style.outline = '3px solid #0b57d0'; e.style.outlineOffset = '2px'; });
      e.addEventListener('blur', function () { e.style.outline = ''; });
    }

    var btn = el('button', 'display:inline-flex;align-items:center;gap:.5em;padding:.7em 1.1em;border-radius:999px;border:0;cursor:pointer;' +
      'background:#0a6e5c;color:#fff;font:600 16px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;' +
      'box-shadow:0 2px 8px rgba(0,0,0,.25);z-index:2147483000', label);
    btn.type = 'button';
    btn.className = 'parley-chat-button';
    btn.setAttribute('data-parley', 'chat-button');
    btn.setAttribute('aria-expanded', 'false');
    ring(btn);

    var panel = el('section', FONT + 'display:none;flex-direction:column;width:min(360px,calc(100vw - 40px));height:min(520px,calc(100vh - 100px));' +
      'background:#fff;color:#1b1e23;border:1px solid #8a9099;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.3);z-index:2147483001;overflow:hidden');
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-label', d.title || T.title);
    panel.setAttribute('data-parley', 'chat-panel');
    panel.id = 'parley-chat-' + phone;
    btn.setAttribute('aria-controls', panel.id);

    var head = el('div', 'display:flex;align-items:center;justify-content:space-between;padding:.6em .9em;background:#0a6e5c;color:#fff');
    var h = el('h2', 'margin:0;font:600 16px/1.3 system-ui,sans-serif', d.title || T.title);
    var x = el('button', 'background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:0 .2em', '×');
    x.type = 'button';
    x.setAttribute('aria-label', T.close);
    ring(x);
    head.appendChild(h);
    head.appendChild(x);

    var log = el('ol', 'list-style:none;margin:0;padding:.8em;flex:1;overflow-y:auto;display:flex;flex-direction:column;gap:.5em');
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    log.setAttribute('aria-label', d.title || T.title);
    var hint = el('li', 'color:#4a5160;text-align:center', T.empty);
    log.appendChild(hint);

    var status = el('p', 'margin:0;padding:0 .9em;min-height:1.4em;color:#8a1c1c;font-size:13px');
    status.setAttribute('role', 'status');

    var form = el('form', 'display:flex;gap:.4em;padding:.6em;border-top:1px solid #d5d9de');
    var boxId = 'parley-chat-text-' + phone;
    var lab = el('label', 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap', T.message);
    lab.htmlFor = boxId;
    var box = el('textarea', FONT + 'flex:1;resize:none;padding:.4em;border:1px solid #6b7280;border-radius:6px;color:#1b1e23;background:#fff');
    box.id = boxId;
    box.rows = 2;
    box.maxLength = 2000;
    ring(box);
    var send = el('button', 'padding:.4em .9em;border:0;border-radius:6px;background:#0a6e5c;color:#fff;font-weight:600;cursor:pointer', T.send);
    send.type = 'submit';
    ring(send);
    form.appendChild(lab);
    form.appendChild(box);
    form.appendChild(send);

    var move = el('div', 'padding:.4em .9em .8em;border-top:1px solid #d5d9de');
    var moveBtn = el('button', 'background:transparent;border:0;padding:0;color:#0b57d0;text-decoration:underline;cursor:pointer;font:inherit', T.moveBtn);
    moveBtn.type = 'button';
    moveBtn.setAttribute('aria-expanded', 'false');
    ring(moveBtn);
    var moveForm = el('form', 'display:none;flex-direction:column;gap:.4em;margin-top:.5em');
    var telId = 'parley-chat-tel-' + phone;
    var telLab = el('label', '', T.phoneLabel);
    telLab.htmlFor = telId;
    var tel = el('input', FONT + 'padding:.4em;border:1px solid #6b7280;border-radius:6px');
    tel.id = telId;
    tel.type = 'tel';
    tel.autocomplete = 'tel';
    ring(tel);
    var getLink = el('button', 'align-self:flex-start;padding:.4em .9em;border:0;border-radius:6px;background:#0a6e5c;color:#fff;font-weight:600;cursor:pointer', T.getLink);
    getLink.type = 'submit';
    ring(getLink);
    var moveOut = el('div', '');
    moveForm.appendChild(telLab);
    moveForm.appendChild(tel);
    moveForm.appendChild(getLink);
    moveForm.appendChild(moveOut);
    move.appendChild(moveBtn);
    move.appendChild(moveForm);

    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(status);
    panel.appendChild(form);
    panel.appendChild(move);

    function say(text) { status.textContent = text || ''; }

    function errorText(r, body) {
      if (r.status === 403) return T.notAllowed;
      if (r.status === 429) return T.busy;
      return (body && body.error && body.error.message) || ('HTTP ' + r.status);
    }

    // call sends a request to the visitor API; a forgotten token (401)
    // starts a new identity once.
    function call(method, path, body, retried) {
      var headers = {};
      if (body) headers['Content-Type'] = 'application/json';
      if (ident) headers.Authorization = 'Bearer ' + ident.token;
      return fetch(api + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined }).then(function (r) {
        return r.json().catch(function () { return null; }).then(function (b) {
          if (r.status === 401 && ident && !retried) {
            forget();
            return session().then(function () { return call(method, path, body, true); });
          }
          if (!r.ok) { var e = new Error(errorText(r, b)); e.status = r.status; throw e; }
          return b;
        });
      });
    }

    function forget() {
      ident = null;
      try { localStorage.removeItem(key); } catch (e) { /* storage may be off */ }
      if (stream) stream.abort();
    }

    function session() {
      if (ident) return Promise.resolve(ident);
      return fetch(api + '/sessions', { method: 'POST' }).then(function (r) {
        return r.json().catch(function () { return null; }).then(function (b) {
          if (!r.ok) throw new Error(errorText(r, b));
          ident = { visitor_id: b.visitor_id, token: b.token };
          try { localStorage.setItem(key, JSON.stringify(ident)); } catch (e) { /* this page only */ }
          return ident;
        });
      });
    }

    function show(m) {
      if (!m || !m.id || seen[m.id]) return;
      seen[m.id] = true;
      if (m.created_at > last) last = m.created_at;
      if (hint.parentNode) hint.parentNode.removeChild(hint);
      var mine = m.from === 'visitor';
      var li = el('li', 'max-width:85%;padding:.45em .7em;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere;' +
        (mine ? 'align-self:flex-end;background:#d9f2ea' : 'align-self:flex-start;background:#eef0f3'));
      li.setAttribute('data-from', m.from);
      li.setAttribute('data-id', m.id);
      var who = el('span', 'position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)', (mine ? T.you : T.them) + ': ');
      li.appendChild(who);
      li.appendChild(document.createTextNode(m.text));
      log.appendChild(li);
      log.scrollTop = log.scrollHeight;
    }

    function movedNow() {
      say('');
      moveOut.textContent = '';
      moveBtn.style.display = 'none';
      var p = el('p', 'margin:.3em 0 0;color:#1b1e23', T.moved);
      move.appendChild(p);
    }

    // catchUp loads what was missed (that millisecond included; shown
    // once by id).
    function catchUp() {
      return call('GET', '/messages?after=' + last).then(function (b) {
        (b.messages || []).forEach(show);
        if (b.moved) movedNow();
      });
    }

    // listen reads the server's live stream with fetch (so the token
    // travels in a header, not the URL) and reconnects after network loss.
    function listen() {
      if (streaming || !ident) return;
      streaming = true;
      var ctl = typeof AbortController === 'function' ? new AbortController() : null;
      stream = ctl;
      fetch(api + '/events', { headers: { Authorization: 'Bearer ' + ident.token }, signal: ctl && ctl.signal }).then(function (r) {
        if (r.status === 401) { forget(); throw new Error('401'); }
        if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
        var rd = r.body.getReader();
        var dec = new TextDecoder();
        var buf = '';
        function pump() {
          return rd.read().then(function (c) {
            if (c.done) return;
            buf += dec.decode(c.value, { stream: true });
            var i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              var chunk = buf.slice(0, i);
              buf = buf.slice(i + 2);
              if (/^event: ready/m.test(chunk)) {
                backoff = 1000;
                say('');
                catchUp().catch(function () {});
                continue;
              }
              var data = /^data: (.*)$/m.exec(chunk);
              if (data && data[1] !== '{}') {
                try { show(JSON.parse(data[1])); } catch (e) { /* not ours */ }
              }
            }
            return pump();
          });
        }
        return pump();
      }).catch(function () { /* handled below */ }).then(function () {
        streaming = false;
        if (stream !== ctl || !ident) return; // replaced or forgotten
        say(T.offline);
        setTimeout(listen, backoff);
        backoff = Math.min(backoff * 2, 15000);
      });
    }
    window.addEventListener('online', function () { if (!streaming && ident) { backoff = 1000; listen(); } });

    var opened = false;
    function open() {
      panel.style.display = 'flex';
      btn.setAttribute('aria-expanded', 'true');
      box.focus();
      if (!opened) {
        opened = true;
        if (ident) catchUp().then(listen, function (e) { say(e.message); listen(); });
      }
    }
    function close() {
      panel.style.display = 'none';
      btn.setAttribute('aria-expanded', 'false');
      btn.focus();
    }
    btn.addEventListener('click', function () { if (panel.style.display === 'flex') close(); else open(); });
    x.addEventListener('click', close);
    panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.preventDefault(); close(); } });
    box.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : submit(e); }
    });

    function submit(e) {
      if (e && e.preventDefault) e.preventDefault();
      var text = box.value.trim();
      if (!text || send.disabled) return;
      send.disabled = true;
      say('');
      session().then(function () { return call('POST', '/messages', { text: text }); }).then(function (m) {
        box.value = '';
        show(m);
        listen();
      }, function (err) {
        say(T.failed + err.message);
      }).then(function () { send.disabled = false; box.focus(); });
    }
    form.addEventListener('submit', submit);

    moveBtn.addEventListener('click', function () {
      var on = moveForm.style.display !== 'flex';
      moveForm.style.display = on ? 'flex' : 'none';
      moveBtn.setAttribute('aria-expanded', on ? 'true' : 'false');
      if (on) tel.focus();
    });
    moveForm.addEventListener('submit', function (e) {
      e.preventDefault();
      moveOut.textContent = '';
      getLink.disabled = true;
      session().then(function () {
        return call('POST', '/handoff', { phone: tel.value, text: T.prefill });
      }).then(function (b) {
        var p = el('p', 'margin:.3em 0', T.moveHint);
        var a = el('a', 'color:#0b57d0;font-weight:600', T.openApp);
        a.href = b.link;
        a.target = '_blank';
        a.rel = 'noopener';
        a.setAttribute('data-parley', 'handoff-link');
        ring(a);
        moveOut.appendChild(p);
        moveOut.appendChild(a);
        a.focus();
        listen();
      }, function (err) {
        var p = el('p', 'margin:.3em 0;color:#8a1c1c', err.message);
        p.setAttribute('role', 'alert');
        moveOut.appendChild(p);
      }).then(function () { getLink.disabled = false; });
    });

    var wrap = el('div', 'display:flex;flex-direction:column;align-items:flex-end;gap:10px;z-index:2147483000');
    wrap.appendChild(panel);
    wrap.appendChild(btn);
    if (d.inline === 'true') {
      wrap.style.alignItems = 'flex-start';
      script.parentNode.insertBefore(wrap, script.nextSibling);
    } else {
      wrap.style.position = 'fixed';
      wrap.style.right = '20px';
      wrap.style.bottom = '20px';
      var add = function () { document.body.appendChild(wrap); };
      if (document.body) add(); else document.addEventListener('DOMContentLoaded', add);
    }
  }
})();
