// The console works without this file: every control is a link or a form.
// It only asks before actions that cannot be undone.
document.addEventListener('submit', function (e) {
  var f = e.target;
  if (f && f.matches && f.matches('[data-testid="revoke-form"]') && !window.confirm(document.documentElement.lang === 'en' ? 'Revoke this authorisation? It cannot be undone.' : '确定撤销该授权？撤销后不可恢复。')) {
    e.preventDefault();
  }
});
