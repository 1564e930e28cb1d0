// Marquee: progressive enhancement for the rating and "helpful" vote forms.
// Every form works without this script; it only saves a full page reload.
(() => {
  'use strict';

  document.addEventListener('DOMContentLoaded', () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    // No token means the visitor is signed out: there is nothing to enhance.
    if (!meta || !meta.content) return;
    const csrf = meta.content;

    // Resolves with {ok, status, data}; rejects only when the network fails.
    async function api(method, url, body) {
      const res = await fetch(url, {
        method,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': csrf },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      // A proxy's error page may not be JSON; treat it as an empty problem.
      const data = await res.json().catch(() => ({}));
      return { ok: res.ok, status: res.status, data: data || {} };
    }

    // Problem documents (RFC 9457) carry a human sentence in `detail`.
    const problemText = (data, status) =>
      data.detail || data.title || `Something went wrong (error ${status}). Please try again.`;

    const setText = (selector, text) =>
      document.querySelectorAll(selector).forEach((el) => { el.textContent = text; });

    // Refresh every place on the page that shows the film's rating figures.
    function applyStats(s) {
      setText('[data-avg]', s.average_text ?? '–');
      setText('[data-rating-count]', s.ratings_line);
      setText('[data-review-count]', s.reviews_line);
      const max = Math.max(s.rating_count, 1);
      (s.histogram || []).forEach((count, i) => {
        const n = i + 1;
        document.querySelectorAll(`progress[data-bar="${n}"]`).forEach((bar) => {
          bar.max = max;
          bar.value = count;
          bar.textContent = String(count);
          bar.setAttribute('aria-label', `${n} stars: ${count}`);
        });
        setText(`[data-bar-count="${n}"]`, String(count));
      });
    }

    // Same markup as the server renders, so the no-JS and JS errors look alike.
    function showRateErrors(form, lines) {
      document.getElementById('rate-errors')?.remove();
      const box = Object.assign(document.createElement('div'), { className: 'form-errors', id: 'rate-errors', tabIndex: -1 });
      box.setAttribute('role', 'alert');
      const intro = Object.assign(document.createElement('p'), { textContent: 'Your rating was not saved:' });
      const list = document.createElement('ul');
      list.append(...lines.map((line) => Object.assign(document.createElement('li'), { textContent: line })));
      box.append(intro, list);
      form.before(box);
      box.focus(); // move screen-reader and keyboard users to the problem
    }

    document.querySelectorAll('form.rating-form[data-movie-id]').forEach((form) => {
      const button = form.querySelector('button[type="submit"]');
      const status = form.querySelector('.form-status');
      const field = (name) => form.elements.namedItem(name);

      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        if (form.dataset.busy) return; // ignore double submits while saving
        const checked = form.querySelector('input[name="stars"]:checked');
        const payload = {
          stars: checked ? Number(checked.value) : null,
          headline: field('headline')?.value ?? '',
          body: field('body')?.value ?? '',
          anonymous: Boolean(field('anonymous')?.checked),
        };
        form.dataset.busy = '1';
        if (status) status.textContent = 'Saving…';
        let result;
        try {
          result = await api('PUT', `/api/v1/movies/${form.dataset.movieId}/rating`, payload);
        } catch {
          form.submit(); // network trouble: post the form the classic way
          return;
        } finally {
          delete form.dataset.busy;
        }
        if (result.ok) {
          document.getElementById('rate-errors')?.remove();
          if (result.data.stats) applyStats(result.data.stats);
          if (status) status.textContent = 'Saved.';
          if (button) button.textContent = 'Update my rating';
          return;
        }
        if (status) status.textContent = '';
        const errors = result.status === 422 && Array.isArray(result.data.errors) ? result.data.errors : [];
        const lines = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message));
        showRateErrors(form, lines.length ? lines : [problemText(result.data, result.status)]);
      });
    });

    const helpfulLine = (n) =>
      n === 0 ? '' : n === 1 ? '1 person found this helpful' : `${n.toLocaleString('en-US')} people found this helpful`;

    document.querySelectorAll('form.vote-form[data-review-id]').forEach((form) => {
      const buttons = [...form.querySelectorAll('button[data-vote]')];
      if (!buttons.length) return; // signed-out variant shows sign-in links

      form.addEventListener('submit', async (event) => {
        // Older browsers lack event.submitter; the focused button is the best guess.
        const button = event.submitter || document.activeElement;
        if (!buttons.includes(button)) return; // unknown origin: let the browser post it
        event.preventDefault();
        const url = `/api/v1/reviews/${form.dataset.reviewId}/vote`;
        const withdraw = button.getAttribute('aria-pressed') === 'true';
        const hadFocus = document.activeElement === button;
        form.querySelector('.vote-error')?.remove();
        buttons.forEach((b) => { b.disabled = true; });
        let result;
        try {
          result = withdraw
            ? await api('DELETE', url)
            : await api('PUT', url, { helpful: button.dataset.vote === 'yes' });
        } catch {
          // Network trouble: post normally, carrying the clicked button's value.
          form.append(Object.assign(document.createElement('input'), { type: 'hidden', name: button.name, value: button.value }));
          form.submit();
          return;
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
          // Disabling a button drops keyboard focus; give it back.
          if (hadFocus && document.activeElement !== button) button.focus();
        }
        if (result.ok) {
          const vote = result.data.my_vote;
          buttons.forEach((b) => {
            const pressed = typeof vote === 'boolean' && (b.dataset.vote === 'yes') === vote;
            b.setAttribute('aria-pressed', String(pressed));
            b.value = pressed ? 'withdraw' : b.dataset.vote; // keeps a no-JS resubmit right
          });
          const count = form.closest('article.review')?.querySelector('.helpful-count');
          if (count) count.textContent = helpfulLine(result.data.helpful_yes);
          return;
        }
        const error = Object.assign(document.createElement('p'), { className: 'vote-error', textContent: problemText(result.data, result.status) });
        error.setAttribute('role', 'alert');
        form.append(error);
      });
    });
  });
})();

// Upload forms marked data-upload-progress: send with XMLHttpRequest to show how much of a large
// file has gone up, then show whatever page the server answered with (a redirect's target, or
// the form again with its error). Without JavaScript the browser's own upload indicator shows.
(() => {
  'use strict';
  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('form[data-upload-progress]').forEach((form) => {
      const bar = form.querySelector('[data-progress-bar]');
      const text = form.querySelector('[data-progress-text]');
      form.addEventListener('submit', (e) => {
        if (!window.XMLHttpRequest || !window.FormData) return;
        e.preventDefault();
        const xhr = new XMLHttpRequest();
        xhr.open('POST', form.action);
        xhr.upload.addEventListener('progress', (p) => {
          if (!p.lengthComputable) return;
          const pct = Math.floor((p.loaded / p.total) * 100);
          bar.hidden = false;
          bar.value = pct;
          text.textContent = pct < 100 ? `${pct} % uploaded` : 'Uploaded; checking the file…';
        });
        xhr.addEventListener('load', () => {
          if (xhr.responseURL && xhr.responseURL !== form.action && xhr.status < 400) {
            window.location.assign(xhr.responseURL);
          } else {
            document.open();
            document.write(xhr.responseText);
            document.close();
          }
        });
        xhr.addEventListener('error', () => { text.textContent = 'The upload failed: check the connection and try again.'; });
        form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
        xhr.send(new FormData(form));
      });
    });
  });
})();

// Search suggestions as you type. Without JavaScript the search form submits to /search, which
// shows the same results.
(() => {
  document.querySelectorAll('input[data-suggest]').forEach((input, n) => {
    const list = document.createElement('ul');
    list.id = `suggestions-${n}`;
    list.className = 'suggestions';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    input.insertAdjacentElement('afterend', list);
    let timer = null;
    let active = -1;
    let asked = 0;
    const close = () => {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    };
    const mark = (i) => {
      const items = list.querySelectorAll('[role=option]');
      items.forEach((el, j) => el.setAttribute('aria-selected', String(j === i)));
      active = i;
      if (items[i]) input.setAttribute('aria-activedescendant', items[i].id);
    };
    const show = (hits) => {
      list.replaceChildren();
      hits.forEach((h, i) => {
        const li = document.createElement('li');
        li.id = `${list.id}-${i}`;
        li.setAttribute('role', 'option');
        const a = document.createElement('a');
        a.href = h.url;
        a.textContent = h.year ? `${h.title} (${h.year})` : h.title;
        if (h.person) {
          const why = document.createElement('span');
          why.className = 'muted';
          why.textContent = ` · ${h.person}`;
          a.append(why);
        }
        li.append(a);
        list.append(li);
      });
      list.hidden = hits.length === 0;
      input.setAttribute('aria-expanded', String(hits.length > 0));
      active = -1;
    };
    input.addEventListener('input', () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(async () => {
        const mine = ++asked;
        try {
          const res = await fetch(`/api/v1/search/suggest?q=${encodeURIComponent(q)}`, { headers: { Accept: 'application/json' } });
          if (!res.ok || mine !== asked) return;
          show((await res.json()).items || []);
        } catch (_) { /* the form still works */ }
      }, 120);
    });
    input.addEventListener('keydown', (e) => {
      const items = list.querySelectorAll('[role=option]');
      if (list.hidden || items.length === 0) return;
      if (e.key === 'ArrowDown') { e.preventDefault(); mark((active + 1) % items.length); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); mark((active - 1 + items.length) % items.length); }
      else if (e.key === 'Escape') { close(); }
      else if (e.key === 'Enter' && active >= 0) {
        e.preventDefault();
        window.location.assign(items[active].querySelector('a').href);
      }
    });
    input.addEventListener('blur', () => setTimeout(close, 150));
  });
})();
