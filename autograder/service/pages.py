"""The service's two web pages (student and class view) and their one script.

The pages hold no data: the script fetches it from the API with the token the user typed
(kept in the tab's sessionStorage, sent as a Bearer header, so no cookie and no cross-site
request can act for them). Every URL is relative, so the pages work under a prefix
(``serve --prefix``, e.g. as a JupyterHub service). The script writes every value with ``textContent``, never as
HTML, and the Content-Security-Policy allows only this origin's script.
"""

CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; "
       "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")


def page_headers() -> dict:
    return {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


_STYLE = """<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ccc; padding: .3rem; text-align: left; }
.passed { color: #17702a; } .failed, .not-run { color: #a4161a; } [role=alert] { color: #a4161a; }
label { display: block; margin: .5rem 0 .2rem; } section[hidden] { display: none; }
</style>"""

STUDENT_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Submit an exercise</title>{_STYLE}<script src="app.js" defer></script></head>
<body data-page="student"><main>
<h1>Submit an exercise</h1>
<section id="login"><form id="login-form">
<label for="token">Your token (from your instructor)</label>
<input id="token" type="password" autocomplete="off" required>
<button type="submit">Log in</button></form></section>
<section id="work" hidden>
<p>Logged in as <strong id="who"></strong>. <button type="button" id="logout">Log out</button></p>
<form id="submit-form">
<label for="assignment">Assignment</label><select id="assignment"></select>
<p id="tries"></p>
<label for="notebook">Notebook (.ipynb, saved)</label><input id="notebook" type="file" accept=".ipynb" required>
<button type="submit">Submit for grading</button></form>
<h2>Result</h2><p id="status" aria-live="polite"></p>
<table id="result" hidden><thead><tr><th>Question</th><th>Points</th><th>Status</th><th>What the checks said</th></tr></thead><tbody></tbody></table>
</section>
<p id="error" role="alert"></p>
</main></body></html>
"""

CLASS_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class submissions</title>{_STYLE}<script src="app.js" defer></script></head>
<body data-page="class"><main>
<h1>Class submissions</h1>
<section id="login"><form id="login-form">
<label for="token">Instructor token</label><input id="token" type="password" autocomplete="off" required>
<button type="submit">Open</button></form></section>
<section id="work" hidden>
<p id="queue" aria-live="polite"></p>
<table id="class"><thead><tr><th>Student</th><th>Assignment</th><th>Received (UTC)</th><th>State</th><th>Score</th></tr></thead><tbody></tbody></table>
</section>
<p id="error" role="alert"></p>
</main></body></html>
"""

APP_JS = r"""'use strict';
const $ = (id) => document.getElementById(id);
const token = () => sessionStorage.getItem('autograder-token') || '';
const when = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');

async function api(path, options = {}) {
  const headers = Object.assign({'Authorization': 'Bearer ' + token()}, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, {headers}));
  let body = {};
  try { body = await response.json(); } catch (e) { body = {error: 'the server sent no readable reply'}; }
  if (!response.ok) throw new Error(body.error || ('HTTP ' + response.status));
  return body;
}

function row(table, cells, css) {
  const tr = document.createElement('tr');
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (css && css[i]) td.className = css[i];
    tr.appendChild(td);
  });
  table.querySelector('tbody').appendChild(tr);
}

function fail(err) { $('error').textContent = err.message; }

function showResult(a) {
  const table = $('result');
  table.querySelector('tbody').replaceChildren();
  if (a.state !== 'done') {
    $('status').textContent = 'Received ' + when(a.received_at) + ' UTC, ' + a.state + '…';
    table.hidden = true;
    return;
  }
  let line = a.status === 'graded' ? 'Graded: ' + a.score + ' / ' + a.max_score + ' points.'
                                   : 'Not graded: ' + a.reason;
  $('status').textContent = line;
  (a.questions || []).forEach((q) => row(table, [q.id, q.points + ' / ' + q.max_points, q.status, q.message],
                                          [null, null, q.status.replace(' ', '-'), null]));
  table.hidden = !(a.questions || []).length;
}

async function poll(id) {
  for (;;) {
    const a = await api('api/attempts/' + id);
    showResult(a);
    if (a.state === 'done') return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function enterStudent() {
  const me = await api('api/me');
  $('who').textContent = me.holder;
  const select = $('assignment');
  select.replaceChildren();
  me.assignments.forEach((a) => {
    const option = document.createElement('option');
    option.value = a.name;
    option.textContent = a.name + ' (' + a.tries_left + ' of ' + a.tries + ' tries left)';
    select.appendChild(option);
  });
  $('login').hidden = true; $('work').hidden = false;
}

async function enterClass() {
  const view = await api('api/class');
  $('queue').textContent = view.queued + ' queued, ' + view.running + ' being graded, ' +
                           view.attempts.length + ' attempts in all';
  const table = $('class');
  table.querySelector('tbody').replaceChildren();
  view.attempts.forEach((a) => row(table, [a.student, a.assignment, when(a.received_at), a.state,
      a.status === 'graded' ? a.score + ' / ' + a.max_score : (a.status || '')]));
  $('login').hidden = true; $('work').hidden = false;
}

document.addEventListener('DOMContentLoaded', () => {
  const page = document.body.dataset.page;
  const enter = page === 'class' ? enterClass : enterStudent;
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault(); $('error').textContent = '';
    sessionStorage.setItem('autograder-token', $('token').value.trim());
    enter().then(() => { if (page === 'class') setInterval(() => enterClass().catch(fail), 2000); })
           .catch(fail);
  });
  if (page !== 'student') return;
  $('logout').addEventListener('click', () => { sessionStorage.clear(); location.reload(); });
  $('submit-form').addEventListener('submit', async (e) => {
    e.preventDefault(); $('error').textContent = '';
    const file = $('notebook').files[0];
    try {
      const a = await api('api/assignments/' + encodeURIComponent($('assignment').value) + '/submissions',
                          {method: 'POST', body: file, headers: {'Content-Type': 'application/x-ipynb+json'}});
      showResult(a);
      await poll(a.id);
      await enterStudent();
    } catch (err) { fail(err); }
  });
});
"""
