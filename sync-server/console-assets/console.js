// The console works without this file: every control is a link or a form.
// It only asks before actions that cannot be undone.
document.addEventListener('submit', function (e) {
  var f = e.target;
  if (f && f.matches && f.matches('[data-testid="revoke-form"]') && !window.confirm(document.documentElement.lang === 'en' ? 'Revoke this authorisation? It cannot be undone.' : '确定撤销该授权？撤销后不可恢复。')) {
    e.preventDefault();
  }
});

// The oversight page's live feed (server-sent events): new findings and
// warnings in the reader's scope, newest first. Text only, never markup.
(function () {
  var live = document.querySelector('[data-testid="live-feed"]');
  if (!live || !window.EventSource) { return; }
  var note = document.createElement('li');
  note.className = 'muted';
  note.textContent = live.getAttribute('data-empty');
  live.appendChild(note);
  var en = document.documentElement.lang === 'en';
  function add(kind, d) {
    if (note.parentNode) { note.parentNode.removeChild(note); }
    var li = document.createElement('li');
    li.setAttribute('data-testid', 'live-item');
    li.setAttribute('data-kind', kind);
    li.setAttribute('data-code', String(d.code || ''));
    var when = new Date().toLocaleTimeString(en ? 'en-GB' : 'zh-CN');
    li.appendChild(document.createTextNode(when + ' · ' + (d.project || '') + ' · '));
    if (kind === 'finding') {
      li.appendChild(document.createTextNode('[' + d.rule + '] ' + d.text + ' '));
      if (/^[0-9a-f]{64}$/.test(d.record)) {
        var a = document.createElement('a');
        a.href = '/console/records/' + d.record;
        a.className = 'mono';
        a.textContent = d.record.slice(0, 12);
        li.appendChild(a);
      }
    } else {
      var raised = d.change === 'raised';
      li.appendChild(document.createTextNode((raised ? (en ? 'warning raised: ' : '出现预警：') : (en ? 'warning cleared: ' : '预警解除：')) + d.code));
    }
    live.insertBefore(li, live.firstChild);
  }
  var es = new EventSource(live.getAttribute('data-events'));
  es.addEventListener('finding', function (e) { add('finding', JSON.parse(e.data)); });
  es.addEventListener('warning', function (e) { add('warning', JSON.parse(e.data)); });
})();
