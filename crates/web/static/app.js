// danvan: a little comfort on top of pages that work without JavaScript.
// Forms and buttons with data-confirm ask before they act.
// A submit button with data-check (the review's "Gửi duyệt") first lists what is still missing
// — a target with no value, a required file neither kept nor picked — and asks to confirm only
// when nothing is.
function missingOf(form) {
  var out = [];
  form.querySelectorAll("fieldset.target[data-reported]").forEach(function (t) {
    var code = t.dataset.code, name = t.dataset.name;
    var filled = Array.prototype.some.call(t.querySelectorAll("input[name$='.numerator'], input[name$='.count'], select, input[type=radio]"), function (i) {
      return i.type === "radio" ? i.checked : i.value.trim() !== "";
    });
    var ratio = t.querySelector("input[name$='.denominator']");
    if (ratio && ratio.value.trim() === "") { filled = false; }
    if (!filled) { out.push([code, form.dataset.missingValue.replace("{code}", code).replace("{name}", name)]); }
    if (t.dataset.evidenceRequired !== undefined) {
      var kept = t.querySelectorAll("ul.files li").length;
      var picked = t.querySelector("input[type=file]");
      if (!kept && !(picked && picked.files && picked.files.length)) {
        out.push([code, form.dataset.missingEvidence.replace("{code}", code).replace("{name}", name)]);
      }
    }
  });
  return out;
}
function showMissing(form, missing) {
  var box = document.getElementById("review-missing");
  if (!box) {
    box = document.createElement("div");
    box.id = "review-missing"; box.className = "alert";
    form.querySelector(".actions.sticky").before(box);
  }
  box.setAttribute("role", "alert");
  box.textContent = "";
  var head = document.createElement("p");
  var strong = document.createElement("strong");
  strong.textContent = form.dataset.missingTitle || "";
  head.appendChild(strong); box.appendChild(head);
  var ul = document.createElement("ul");
  missing.forEach(function (m) {
    var li = document.createElement("li"), a = document.createElement("a");
    a.href = "#t-" + m[0]; a.textContent = m[1];
    li.appendChild(a); ul.appendChild(li);
  });
  box.appendChild(ul);
  box.scrollIntoView({ block: "center" });
}

document.addEventListener("submit", function (e) {
  if (e.submitter && e.submitter.dataset.check !== undefined) {
    var missing = missingOf(e.target);
    if (missing.length) { e.preventDefault(); showMissing(e.target, missing); return; }
    if (!window.confirm(e.submitter.dataset.check)) { e.preventDefault(); return; }
    e.target.dataset.unsaved = "";
    return;
  }
  var el = e.submitter && e.submitter.dataset.confirm ? e.submitter : e.target;
  var msg = el && el.dataset ? el.dataset.confirm : null;
  if (msg && !window.confirm(msg)) { e.preventDefault(); return; }
  if (e.target.dataset && e.target.dataset.unsaved !== undefined) { e.target.dataset.unsaved = ""; }
});

// A form marked data-unsaved warns before the page is left with typed changes not saved.
document.addEventListener("input", function (e) {
  var f = e.target.form;
  if (f && f.dataset.unsaved !== undefined && e.target.type !== "file") { f.dataset.unsaved = "1"; }
});
window.addEventListener("beforeunload", function (e) {
  var dirty = document.querySelector("form[data-unsaved='1']");
  if (dirty) { e.preventDefault(); e.returnValue = dirty.dataset.leave || ""; }
});

// The review form (data-evidence): a file picked is sent at once, in the background, with its
// progress; the typed values stay where they are. Without this script the files go with the
// form when it is saved.
(function () {
  var form = document.querySelector("form[data-evidence]");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var say = function (key, name, reason) {
    return (form.dataset[key] || "").replace("{name}", name).replace("{reason}", reason || "");
  };
  var upload = function (input, box, file) {
    var note = document.createElement("p");
    note.className = "note upload-progress";
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    note.textContent = say("uploading", file.name) + " ";
    note.appendChild(bar);
    box.appendChild(note);
    var body = new FormData();
    body.append("target", box.dataset.target);
    body.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.evidence);
    xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) { bar.value = Math.round(100 * ev.loaded / ev.total); } };
    xhr.onload = function () {
      var answer = {};
      try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = {}; }
      if (xhr.status === 201) {
        note.textContent = say("uploaded", file.name);
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = answer.href; a.textContent = answer.filename; a.setAttribute("download", "");
        var size = document.createElement("span");
        size.className = "code"; size.textContent = Math.ceil(answer.size / 1024) + " KB";
        var del = document.createElement("button");
        del.type = "submit"; del.name = "intent"; del.value = "delete:" + answer.id;
        del.className = "link danger-link"; del.textContent = form.dataset.deleteLabel || "×";
        del.dataset.confirm = form.dataset.deleteConfirm || "";
        li.appendChild(a); li.appendChild(document.createTextNode(" ")); li.appendChild(size);
        li.appendChild(document.createTextNode(" ")); li.appendChild(del);
        box.querySelector("ul.files").appendChild(li);
      } else {
        note.className = "field-error";
        note.textContent = say("failed", file.name, answer.error || String(xhr.status));
      }
    };
    xhr.onerror = function () {
      note.className = "field-error";
      note.textContent = say("failed", file.name, "");
    };
    xhr.send(body);
  };
  form.addEventListener("change", function (e) {
    var input = e.target;
    if (input.type !== "file" || !input.files || !input.files.length) { return; }
    var box = input.closest(".evidence");
    for (var i = 0; i < input.files.length; i++) { upload(input, box, input.files[i]); }
    input.value = "";
  });
})();

// The map: a first tap on a dot (or focus by keyboard) says its name and figure; a second tap
// opens it. A mouse click opens at once (the dot's title shows on hover).
(function () {
  var tip = document.getElementById("map-tip");
  if (!tip) { return; }
  var armed = null;
  var say = function (a) { tip.textContent = a.getAttribute("aria-label") || ""; };
  document.querySelectorAll("svg.map a").forEach(function (a) {
    a.addEventListener("focus", function () { say(a); });
    a.addEventListener("click", function (e) {
      if (e.pointerType === "touch" && armed !== a) { e.preventDefault(); armed = a; say(a); }
    });
  });
})();
