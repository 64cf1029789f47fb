// danvan: a little comfort on top of pages that work without JavaScript.
// Forms and buttons with data-confirm ask before they act.
document.addEventListener("submit", function (e) {
  var el = e.submitter && e.submitter.dataset.confirm ? e.submitter : e.target;
  var msg = el && el.dataset ? el.dataset.confirm : null;
  if (msg && !window.confirm(msg)) { e.preventDefault(); }
});
