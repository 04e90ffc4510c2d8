// Live progress: polls the page's JSON endpoint and, when a shown mailbox changed state or
// copied more messages, re-renders <main> from the server (so every word stays translated).
// Without JavaScript the page refreshes itself (<noscript> meta refresh).
(() => {
  const url = document.currentScript.dataset.url;
  const showNote = () => { const note = document.querySelector('[data-live-note]'); if (note) note.hidden = false; };
  showNote();
  const changed = (json) => {
    const rows = json.mailboxes ?? [{ ...json.mailbox, progress: json.progress }];
    return rows.some((r) => {
      const el = document.querySelector(`[data-id="${r.id}"]`);
      return !el || el.dataset.state !== r.state || el.dataset.copied !== String(r.progress.copied);
    });
  };
  // Never swap the page under an admin who is filling in a field of it.
  const busy = () => { const el = document.activeElement; return Boolean(el && el.closest('main') && el.matches('input, select, textarea')); };
  const tick = async () => {
    try {
      if (busy()) { setTimeout(tick, 3000); return; }
      const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (res.ok && changed(await res.json())) {
        const html = await (await fetch(location.href, { credentials: 'same-origin' })).text();
        const fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
        if (fresh) {
          // The confirmation of the admin's last action stays until the next page they open.
          const flash = document.querySelector('main > .flash');
          if (flash && !fresh.querySelector(':scope > .flash')) fresh.prepend(flash);
          document.querySelector('main').replaceWith(fresh);
          showNote();
        }
      }
    } catch { /* the next tick tries again */ }
    setTimeout(tick, 3000);
  };
  setTimeout(tick, 3000);
})();
