// File import pages. On the upload page: each chosen file is sent in 8 MB PATCHes that say where
// they start (Upload-Offset); a cut is retried from where the server says it stands (HEAD), and a
// file chosen again after a reload goes on from there too (its upload id is kept in localStorage
// under its name, size and date). Then its dry run starts and the page opens it.
// On a file's page: follows a running dry run or import and reloads when it ends.
// Without JavaScript the form posts the files in one multipart request and the page refreshes itself.
(() => {
  const CHUNK = 8 * 1024 * 1024;
  const form = document.getElementById('upload-form');
  if (form) {
    const csrf = form.dataset.csrf;
    const box = document.getElementById('upload-progress');
    const headers = (extra) => ({ 'x-csrf-token': csrf, ...extra });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const keyOf = (file) => `cutover-upload:${form.dataset.create}:${file.name}:${file.size}:${file.lastModified}`;

    const where = async (id) => {
      const res = await fetch(form.dataset.api + id, { method: 'HEAD', credentials: 'same-origin' });
      return res.ok ? Number(res.headers.get('upload-offset')) : null;
    };
    const create = async (file) => {
      const res = await fetch(form.dataset.create, { method: 'POST', credentials: 'same-origin', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify({ name: file.name, size: file.size }) });
      const json = await res.json();
      if (!res.ok) throw new Error(json.error?.message ?? res.statusText);
      return json.id;
    };
    const patch = (id, offset, blob, onProgress) => new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PATCH', form.dataset.api + id);
      xhr.setRequestHeader('content-type', 'application/offset+octet-stream');
      xhr.setRequestHeader('upload-offset', String(offset));
      xhr.setRequestHeader('x-csrf-token', csrf);
      xhr.upload.onprogress = (e) => onProgress(offset + e.loaded);
      xhr.onload = () => (xhr.status === 204 ? resolve(Number(xhr.getResponseHeader('upload-offset'))) : reject(Object.assign(new Error(xhr.responseText || String(xhr.status)), { status: xhr.status })));
      xhr.onerror = () => reject(new Error('network'));
      xhr.send(blob);
    });

    const send = async (file) => {
      const row = document.createElement('p');
      row.className = 'upload-row';
      row.dataset.file = file.name;
      row.innerHTML = '<span class="name"></span> <progress max="100" value="0"></progress> <span class="muted text"></span>';
      row.querySelector('.name').textContent = file.name;
      box.append(row);
      const show = (sent) => {
        row.querySelector('progress').value = Math.floor((sent / file.size) * 100);
        row.querySelector('.text').textContent = `${(sent / 1048576).toFixed(1)} / ${(file.size / 1048576).toFixed(1)} MB`;
        row.dataset.sent = String(sent);
      };
      if (file.size > Number(form.dataset.max)) throw new Error(`${file.name}: over the upload limit`);
      let id = localStorage.getItem(keyOf(file));
      let offset = id ? await where(id) : null;
      if (offset === null) { id = String(await create(file)); offset = 0; localStorage.setItem(keyOf(file), id); }
      row.dataset.upload = id;
      show(offset);
      let failures = 0;
      while (offset < file.size) {
        try {
          offset = await patch(id, offset, file.slice(offset, Math.min(file.size, offset + CHUNK)), show);
          failures = 0;
          show(offset);
        } catch (err) {
          if (err.status && err.status !== 409 && err.status < 500) throw err;
          if (++failures > 30) throw err;
          row.querySelector('.text').textContent += ' …';
          await sleep(Math.min(30000, 500 * 2 ** Math.min(failures, 6)));
          offset = (await where(id)) ?? offset; // what reached the disk before the cut
        }
      }
      localStorage.removeItem(keyOf(file));
      await fetch(`${form.dataset.api}${id}/dry-run`, { method: 'POST', credentials: 'same-origin', headers: headers({}) });
      return id;
    };

    form.addEventListener('submit', async (event) => {
      const files = [...document.getElementById('upload-files').files];
      if (!files.length || !window.fetch) return;
      event.preventDefault();
      form.querySelector('button').disabled = true;
      try {
        const ids = [];
        for (const file of files) ids.push(await send(file));
        location.href = form.dataset.page + ids[0];
      } catch (err) {
        const p = document.createElement('p');
        p.className = 'flash error';
        p.textContent = String(err.message || err);
        box.append(p);
        form.querySelector('button').disabled = false;
      }
    });
  }

  const followed = document.getElementById('upload');
  if (followed && /^(checking|importing)$/.test(followed.dataset.state)) {
    const tick = async () => {
      try {
        const json = await (await fetch(followed.dataset.poll, { credentials: 'same-origin', headers: { accept: 'application/json' } })).json();
        if (json.state !== followed.dataset.state) { location.reload(); return; }
        const text = document.getElementById('upload-run-progress');
        if (text && json.progress) text.textContent = text.textContent.replace(/\d+/, String(json.progress.copied)).replace(/(\D+)\d+(\D*)$/, `$1${json.progress.seen}$2`);
      } catch { /* try again */ }
      setTimeout(tick, 1500);
    };
    setTimeout(tick, 1500);
  }
})();
