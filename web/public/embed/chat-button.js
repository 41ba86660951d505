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
 *
 * The button is a link to https://HOST/c/<phone>?text=…&ref=…&src=website_button&source_url=<this page>:
 * the chat it opens sends referral.source_type "website_button" with the
 * page's address (without query or fragment) in the first message.
 * It sets no cookies and loads nothing else. */
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
})();
