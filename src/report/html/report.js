// mukarrar HTML report: renders the groups embedded as JSON, lazily.
//
// Only the rows scrolled near the viewport exist in the DOM, and a group's texts are built when
// it is opened, so a report of thousands of clusters opens at once. Every piece of data reaches
// the page through textContent or text nodes, never as markup.
(function () {
  "use strict";

  var marks = window.performance && performance.mark ? performance : null;
  if (marks) marks.mark("mukarrar-start");
  var data = JSON.parse(document.getElementById("mukarrar-data").textContent);
  if (marks) marks.mark("mukarrar-parsed");
  var docs = data.docs; // [id, original text, normalized text or null when unchanged]
  var groups = data.groups; // {id, n, r, m: [[doc, similarity, repMarks, docMarks, repMarksN, docMarksN]]}
  var evalMode = data.mode === "eval";
  var files = data.files || [];

  var CHUNK = 100; // rows added per step while scrolling
  var PAIRS = 20; // pairs shown per step inside an opened group
  var PREVIEW = 160; // characters of the representative in a closed row
  var KIND = { "false-merge": "دمج خاطئ", "false-split": "فصل خاطئ" };

  var list = document.getElementById("list");
  var sentinel = document.getElementById("more");
  var search = document.getElementById("q");
  var normBox = document.getElementById("norm");
  var kindBox = document.getElementById("kind");
  var count = document.getElementById("count");

  var shown = []; // indices into groups that pass the filter, in display order
  var done = 0; // how many of them have a row
  var useNorm = false;
  var lowered = []; // per document: id and texts in lower case (see lowerOf)

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function num(x, digits) {
    return el("bdi", "num", x.toFixed(digits));
  }

  function textOf(d) {
    var doc = docs[d];
    return useNorm && doc[2] !== null ? doc[2] : doc[1];
  }

  // The text with the ranges in `marks` ([start, end, start, end, …], UTF-16 offsets) wrapped
  // in <mark> elements.
  function marked(s, marks) {
    var box = el("div", "txt");
    box.dir = "auto";
    var pos = 0;
    marks = marks || [];
    for (var i = 0; i + 1 < marks.length; i += 2) {
      if (marks[i] > pos) box.append(s.slice(pos, marks[i]));
      box.append(el("mark", null, s.slice(marks[i], marks[i + 1])));
      pos = marks[i + 1];
    }
    if (pos < s.length) box.append(s.slice(pos));
    return box;
  }

  function row(gi) {
    var g = groups[gi];
    var det = el("details", "g");
    det.dataset.i = gi;
    var sum = el("summary");
    if (evalMode) {
      sum.append(el("span", "kind " + g.k, KIND[g.k] || g.k));
      var s = el("span", "sim");
      s.append("التشابه ", num(g.m[0][1], 3));
      sum.append(s);
      var ids = el("span", "id");
      ids.append(el("bdi", null, docs[g.r][0]), " ↔ ", el("bdi", null, docs[g.m[0][0]][0]));
      sum.append(ids);
      if (files.length > 1) {
        var file = el("bdi", "tag", files[g.f].split("/").pop());
        file.title = files[g.f];
        sum.append(file);
      }
    } else {
      var cid = el("span", "cid");
      cid.append(el("bdi", null, "#" + g.id));
      sum.append(cid);
      var size = el("span", "size");
      size.append("الحجم ", el("bdi", null, String(g.n)));
      sum.append(size);
      if (g.m.length) {
        var least = 1;
        for (var j = 0; j < g.m.length; j++) least = Math.min(least, g.m[j][1]);
        var sim = el("span", "sim");
        sim.append("أدنى تشابه ", num(least, 3));
        sum.append(sim);
      }
      sum.append(el("bdi", "id", docs[g.r][0]));
    }
    var pv = docs[g.r][1];
    if (pv.length > PREVIEW) pv = pv.slice(0, PREVIEW) + "…";
    var p = el("span", "pv", pv);
    p.dir = "auto";
    sum.append(p);
    det.append(sum);
    return det;
  }

  function pairEl(g, pair) {
    var d = pair[0];
    var box = el("div", "pair");
    var meta = el("div", "meta");
    var who = el("span");
    who.append(evalMode ? "المستند ب " : "العضو ", el("bdi", "id", docs[d][0]));
    meta.append(who);
    var sim = el("span", "sim");
    sim.append("التشابه ", num(pair[1], 3));
    meta.append(sim);
    if (evalMode && data.labels) {
      var labels = el("span", "tag");
      labels.append("الوسمان ", el("bdi", null, data.labels[g.r]), " / ", el("bdi", null, data.labels[d]));
      meta.append(labels);
    }
    box.append(meta);
    var a = textOf(g.r);
    var b = textOf(d);
    if (a === b) {
      meta.append(el("span", "tag", "نص مطابق للممثل"));
    }
    var cols = el("div", "cols");
    var left = el("div", "col rep");
    var right = el("div", "col mem");
    var la = el("div", "lbl");
    la.append(evalMode ? "المستند أ " : "الممثل ", el("bdi", null, docs[g.r][0]));
    var lb = el("div", "lbl");
    lb.append(evalMode ? "المستند ب " : "العضو ", el("bdi", null, docs[d][0]));
    left.append(la, marked(a, useNorm ? pair[4] : pair[2]));
    right.append(lb, marked(b, useNorm ? pair[5] : pair[3]));
    cols.append(left, right);
    box.append(cols);
    return box;
  }

  function build(det) {
    var g = groups[+det.dataset.i];
    var body = el("div", "body");
    var pairs = el("div", "pairs");
    body.append(pairs);
    var next = 0;
    var moreBtn = el("button", "more");
    moreBtn.type = "button";
    function step() {
      var end = Math.min(next + PAIRS, g.m.length);
      for (; next < end; next++) pairs.append(pairEl(g, g.m[next]));
      if (next < g.m.length) {
        moreBtn.textContent = "عرض المزيد (" + (g.m.length - next) + ")";
      } else {
        moreBtn.remove();
      }
    }
    moreBtn.addEventListener("click", step);
    if (!g.m.length) {
      var only = el("div", "pair");
      only.append(marked(textOf(g.r), []));
      pairs.append(only);
    }
    body.append(moreBtn);
    step();
    det.append(body);
    det.built = true;
  }

  function unbuild(det) {
    var body = det.querySelector(".body");
    if (body) body.remove();
    det.built = false;
  }

  function renderMore() {
    var end = Math.min(done + CHUNK, shown.length);
    var frag = document.createDocumentFragment();
    for (; done < end; done++) frag.append(row(shown[done]));
    list.append(frag);
    sentinel.hidden = done >= shown.length;
  }

  function fillViewport() {
    // Rows until the sentinel is below the fold (the observer only reports changes).
    while (done < shown.length && sentinel.getBoundingClientRect().top < window.innerHeight + 800) {
      renderMore();
    }
  }

  // Texts in lower case, built on the first search that has cased letters (Latin ids, say);
  // Arabic has no case, so an Arabic query searches the texts as they are.
  function lowerOf(d) {
    if (lowered[d] === undefined) {
      var doc = docs[d];
      lowered[d] = (doc[0] + "\n" + doc[1] + "\n" + (doc[2] || "")).toLowerCase();
    }
    return lowered[d];
  }

  function docMatches(d, q, cased) {
    if (cased) return lowerOf(d).indexOf(q) >= 0;
    var doc = docs[d];
    return doc[0].indexOf(q) >= 0 || doc[1].indexOf(q) >= 0 || (doc[2] !== null && doc[2].indexOf(q) >= 0);
  }

  function matches(g, q, cased) {
    if (String(g.id).toLowerCase() === q || "#" + g.id === q) return true;
    if (docMatches(g.r, q, cased)) return true;
    for (var i = 0; i < g.m.length; i++) {
      if (docMatches(g.m[i][0], q, cased)) return true;
    }
    return false;
  }

  function apply() {
    var raw = search.value.trim();
    var q = raw.toLowerCase();
    var cased = q !== raw.toUpperCase();
    var kind = kindBox ? kindBox.value : "";
    shown = [];
    for (var i = 0; i < groups.length; i++) {
      var g = groups[i];
      if (kind && g.k !== kind) continue;
      if (q && !matches(g, q, cased)) continue;
      shown.push(i);
    }
    list.textContent = "";
    done = 0;
    renderMore();
    fillViewport();
    list.dataset.query = q + (kind ? " " + kind : "");
    count.textContent = "";
    count.append(el("bdi", "num", String(shown.length)), " / ", el("bdi", "num", String(groups.length)));
    if (!shown.length) list.append(el("div", "empty", groups.length ? "لا نتائج" : "لا مجموعات"));
  }

  var timer = 0;
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 150);
  });
  search.addEventListener("keydown", function (e) {
    if (e.key === "Enter") {
      clearTimeout(timer);
      apply();
    }
  });
  if (kindBox) kindBox.addEventListener("change", apply);

  normBox.addEventListener("change", function () {
    useNorm = normBox.checked;
    var rows = list.querySelectorAll("details.g");
    for (var i = 0; i < rows.length; i++) {
      if (!rows[i].built) continue;
      unbuild(rows[i]);
      if (rows[i].open) build(rows[i]);
    }
  });

  // "toggle" does not bubble: listen in the capture phase.
  list.addEventListener(
    "toggle",
    function (e) {
      var det = e.target;
      if (det.open && !det.built) build(det);
    },
    true
  );

  if ("IntersectionObserver" in window) {
    new IntersectionObserver(
      function (entries) {
        if (entries[0].isIntersecting) fillViewport();
      },
      { rootMargin: "800px 0px" }
    ).observe(sentinel);
  }
  window.addEventListener("scroll", function () {
    if (done < shown.length) fillViewport();
  }, { passive: true });

  // Keyboard: j/k or ↓/↑ move between groups, Enter or space opens one, / searches.
  function move(step) {
    var rows = list.querySelectorAll("details.g > summary");
    var at = -1;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i] === document.activeElement || rows[i].parentNode.contains(document.activeElement)) {
        at = i;
        break;
      }
    }
    var to = at < 0 ? 0 : at + step;
    if (to >= rows.length && done < shown.length) {
      renderMore();
      rows = list.querySelectorAll("details.g > summary");
    }
    if (to < 0 || to >= rows.length) return;
    rows[to].focus();
    rows[to].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) {
      if (e.key === "Escape" || (e.key === "ArrowDown" && t === search)) {
        e.preventDefault();
        t.blur();
        if (e.key === "ArrowDown") move(1);
      }
      return;
    }
    var inList = t && list.contains(t);
    if (e.key === "/") {
      e.preventDefault();
      search.focus();
      search.select();
    } else if (e.key === "j" || (e.key === "ArrowDown" && inList)) {
      e.preventDefault();
      move(1);
    } else if (e.key === "k" || (e.key === "ArrowUp" && inList)) {
      e.preventDefault();
      move(-1);
    } else if (e.key === "n") {
      normBox.click();
    }
  });

  apply();
  document.documentElement.dataset.ready = "1";
  if (marks) marks.mark("mukarrar-ready");
})();
