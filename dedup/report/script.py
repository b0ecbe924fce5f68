"""Report stage, the page's script: renders the stories from the page's JSON data, with the search
box and the filters.

Takes nothing (a constant); gives `SCRIPT`, the inline JavaScript of the report page, and
`ERRORS_SCRIPT`, which records script errors into the page (`#script-errors`, `data-script-errors`)
so that a headless browser's DOM dump shows them. The script writes every text with
`textContent` (never markup), reads its state from and writes it to the URL fragment
(`#q=...&lang=...&min=...&max=...`), renders 50 stories at a time and marks the page with
`data-rendered` (stories shown) and `data-render-ms` (time from navigation start) when done, and
`data-update-ms` with the time the last search or filter took.
"""

ERRORS_SCRIPT = """
(function(){
  var box = document.getElementById('script-errors'), n = 0;
  function record(msg){
    n += 1; box.hidden = false; box.textContent += msg + '\\n';
    document.documentElement.setAttribute('data-script-errors', String(n));
  }
  window.addEventListener('error', function(e){
    record('error: ' + e.message + ' (line ' + e.lineno + ':' + e.colno + ')');
  });
  window.addEventListener('unhandledrejection', function(e){ record('unhandled rejection: ' + e.reason); });
})();
"""

SCRIPT = r"""
(function(){
'use strict';
var D = JSON.parse(document.getElementById('report-data').textContent);
var A = D.articles, S = D.stories, X = D.explanations, T = D.thresholds;
var PAGE = 50, OPEN = 3;
var ROLE = {holds: 'What holds it together', weakest: 'Weakest links (closest to the threshold)',
            near: 'Near misses (not joined)'};
var storyOf = new Int32Array(A.length);
S.forEach(function(st, s){ st.cl.forEach(function(c){ c[2].forEach(function(k){ storyOf[k] = s; }); }); });

function el(tag, cls, text){
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function add(parent, child){ parent.appendChild(child); return child; }
function fmt(x){ return (+x).toFixed(2); }
function fold(s){
  return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
}
function members(st){ var m = []; st.cl.forEach(function(c){ m = m.concat(c[2]); }); return m; }
function langsOf(st){
  var seen = {}; members(st).forEach(function(k){ seen[A[k][1]] = (seen[A[k][1]] || 0) + 1; });
  return seen;
}
var SIZE = S.map(function(st){ return members(st).length; }), LANGS = S.map(langsOf);
var hay = new Array(S.length);
function haystack(s){
  if (hay[s] === undefined) {
    var parts = [];
    members(S[s]).forEach(function(k){ var a = A[k]; parts.push(a[0], a[2], a[3], a[4]); });
    hay[s] = fold(parts.join('\n'));
  }
  return hay[s];
}

// ---- state: the controls and the URL fragment
var q = document.getElementById('q'), lang = document.getElementById('lang');
var minS = document.getElementById('min-size'), maxS = document.getElementById('max-size');
var list = document.getElementById('stories'), more = document.getElementById('more');
var count = document.getElementById('count');
var langs = {};
A.forEach(function(a){ langs[a[1]] = (langs[a[1]] || 0) + 1; });
Object.keys(langs).sort().forEach(function(l){
  var o = add(lang, el('option', null, l + ' (' + langs[l] + ')')); o.value = l;
});
function readHash(){
  var p = new URLSearchParams(location.hash.slice(1));
  q.value = p.get('q') || ''; lang.value = p.get('lang') || '';
  minS.value = p.get('min') || ''; maxS.value = p.get('max') || '';
  if (lang.selectedIndex < 0) lang.value = '';
}
function writeHash(){
  var p = new URLSearchParams();
  if (q.value) p.set('q', q.value);
  if (lang.value) p.set('lang', lang.value);
  if (minS.value) p.set('min', minS.value);
  if (maxS.value) p.set('max', maxS.value);
  var h = p.toString();
  if (h !== location.hash.slice(1)) history.replaceState(null, '', h ? '#' + h : location.pathname);
}
function matching(){
  var words = fold(q.value).split(/\s+/).filter(Boolean);
  var lo = parseInt(minS.value, 10), hi = parseInt(maxS.value, 10), l = lang.value, out = [];
  for (var s = 0; s < S.length; s++) {
    if (!isNaN(lo) && SIZE[s] < lo) continue;
    if (!isNaN(hi) && SIZE[s] > hi) continue;
    if (l && !LANGS[s][l]) continue;
    var h = words.length ? haystack(s) : '';
    if (words.every(function(w){ return h.indexOf(w) >= 0; })) out.push(s);
  }
  return out;
}

// ---- rendering
function marked(text, spans){
  var p = el('span'), at = 0;
  (spans || []).forEach(function(sp){
    if (sp[0] < at) return;
    if (sp[0] > at) p.appendChild(document.createTextNode(text.slice(at, sp[0])));
    add(p, el('mark', null, text.slice(sp[0], sp[1]))); at = sp[1];
  });
  if (at < text.length) p.appendChild(document.createTextNode(text.slice(at)));
  return p;
}
function verdict(name, score, thr, same){
  var e = el('span', 'verdict ' + (same ? 'yes' : 'no'));
  e.textContent = name + ' ' + fmt(score) + (score >= thr ? ' ≥ ' : ' < ') + fmt(thr) +
    (same ? ' joined' : ' apart');
  return e;
}
function articleLine(k, cls){
  var a = A[k], d = el('div', 'art' + (cls ? ' ' + cls : ''));
  d.setAttribute('data-id', a[0]);
  add(d, el('span', 'lang', a[1]));
  add(d, el('span', 'title', a[2] || a[0]));
  var meta = [a[4], a[6] ? '≈' + a[5] : a[5], a[0]].filter(Boolean).join(' · ');
  var m = add(d, el('span', 'meta', meta));
  if (a[6]) m.title = 'date found in the text';
  return d;
}
function explanation(x, lk){
  var box = el('div', 'ex');
  var sc = add(box, el('div', 'scores'));
  add(sc, verdict('duplicate', x.d, T.duplicate, lk[6]));
  add(sc, verdict('story', x.s, T.story, lk[7]));
  add(sc, el('span', 'minor', 'passage cosine ' + fmt(x.pas) + ' · document cosine ' + fmt(x.cos) +
    ' · sentence coverage ' + fmt(x.cov) + ' · event dates ' + x.dt));
  var chips = add(box, el('div', 'chips'));
  add(chips, el('span', 'minor', 'shared names: ' + (x.nm.length ? '' : '–')));
  x.nm.forEach(function(n){ add(chips, el('mark', 'chip', n)); });
  add(chips, el('span', 'minor', ' shared numbers: ' + (x.nu.length ? '' : '–')));
  x.nu.forEach(function(n){ add(chips, el('mark', 'chip', n)); });
  if (x.al.length) {
    var t = add(box, el('table', 'aligned'));
    var hr = add(t, el('tr'));
    add(hr, el('th', null, A[lk[0]][1] + ': ' + A[lk[0]][0]));
    add(hr, el('th', null, A[lk[1]][1] + ': ' + A[lk[1]][0]));
    add(hr, el('th', 'num', 'margin'));
    x.al.forEach(function(r){
      var tr = add(t, el('tr'));
      add(add(tr, el('td')), marked(r[0], r[3]));
      add(add(tr, el('td')), marked(r[1], r[4]));
      add(tr, el('td', 'num', fmt(r[2])));
    });
    add(box, el('div', 'minor', 'aligned sentence pairs: ' + x.alN +
      (x.alN > x.al.length ? ' (' + x.al.length + ' shown)' : '')));
  } else {
    add(box, el('div', 'minor', 'no aligned sentence pairs'));
  }
  if (x.ev.length) {
    var ev = add(box, el('table', 'evidence'));
    var h = add(ev, el('tr'));
    ['story evidence', 'value', 'share of the log-odds'].forEach(function(c){ add(h, el('th', null, c)); });
    x.ev.forEach(function(r){
      var tr = add(ev, el('tr'));
      add(tr, el('td', null, r[0])); add(tr, el('td', 'num', fmt(r[1])));
      var cell = add(tr, el('td', 'bar'));
      var b = add(cell, el('span', r[2] >= 0 ? 'pos' : 'neg'));
      b.style.width = Math.min(100, Math.abs(r[2]) * 12) + 'px';
      add(cell, el('span', 'num', (r[2] >= 0 ? '+' : '') + fmt(r[2])));
    });
  }
  return box;
}
function linkView(lk, s){
  var d = el('details', 'link role-' + lk[4]);
  var sm = add(d, el('summary'));
  var thr = T[lk[2]];
  add(sm, el('span', 'level', lk[2]));
  add(sm, el('span', 'score ' + (lk[3] >= thr ? 'yes' : 'no'),
    fmt(lk[3]) + (lk[3] >= thr ? ' ≥ ' : ' < ') + fmt(thr)));
  [lk[0], lk[1]].forEach(function(k, i){
    if (i) add(sm, el('span', 'sep', ' ~ '));
    add(sm, el('span', 'lang', A[k][1]));
    add(sm, el('span', 'ltitle', A[k][2] || A[k][0]));
    if (storyOf[k] !== s) {
      var b = add(sm, el('button', 'jump', 'story #' + (storyOf[k] + 1)));
      b.type = 'button'; b.title = 'show that story';
      b.addEventListener('click', function(ev){
        ev.preventDefault(); q.value = A[S[storyOf[k]].c][0];
        lang.value = ''; minS.value = ''; maxS.value = ''; update();
      });
    }
  });
  if (lk[5] >= 0) add(d, explanation(X[lk[5]], lk));
  else add(d, el('div', 'minor', 'evidence not computed: the report explains at most ' +
    D.summary.max_explained + ' pairs (the largest stories first)'));
  return d;
}
function storyView(s, rank){
  var st = S[s], m = members(st), d = el('details', 'story');
  d.id = 'story-' + A[st.c][0];
  d.setAttribute('data-story', A[st.c][0]); d.setAttribute('data-size', m.length);
  if (rank < OPEN && m.length > 1) d.open = true;
  var sm = add(d, el('summary'));
  add(sm, el('span', 'rank', '#' + (s + 1)));
  add(sm, el('span', 'size', m.length + (m.length > 1 ? ' articles' : ' article') +
    (st.cl.length > 1 ? ' · ' + st.cl.length + ' duplicate clusters' : '')));
  Object.keys(LANGS[s]).sort().forEach(function(l){ add(sm, el('span', 'lang', l)); });
  add(sm, el('span', 'stitle', A[st.c][2] || A[st.c][0]));
  var body = add(d, el('div', 'body'));
  add(body, el('div', 'reason', 'story canonical ' + A[st.c][0] + ': ' + st.r));
  st.cl.forEach(function(c){
    var cd = add(body, el('div', 'cluster'));
    add(cd, el('div', 'chead', c[2].length > 1
      ? 'duplicate cluster of ' + c[2].length + ' (canonical: ' + c[1] + ')' : 'duplicate cluster of 1'));
    c[2].forEach(function(k){
      var a = articleLine(k, k === c[0] ? 'canon' : '');
      if (k === c[0]) add(a, el('span', 'badge', '★ canonical'));
      else add(a, el('span', 'minor', 'duplicate score ' + fmt(A[k][7])));
      if (k !== st.c) add(a, el('span', 'minor', 'story score ' + fmt(A[k][8])));
      add(a, el('div', 'lines', A[k][3]));
      add(cd, a);
    });
  });
  var roles = {};
  st.ln.forEach(function(lk){ (roles[lk[4]] = roles[lk[4]] || []).push(lk); });
  ['holds', 'weakest', 'near'].forEach(function(r){
    if (!roles[r]) return;
    var sec = add(body, el('div', 'links'));
    add(sec, el('h4', null, ROLE[r]));
    roles[r].forEach(function(lk, i){
      var v = add(sec, linkView(lk, s));
      if (d.open && rank === 0 && i === 0 && r === 'holds') v.open = true;
    });
  });
  return d;
}
var current = [], shown = 0;
function renderMore(){
  var end = Math.min(current.length, shown + PAGE), frag = document.createDocumentFragment();
  for (var i = shown; i < end; i++) frag.appendChild(storyView(current[i], i));
  list.appendChild(frag); shown = end;
  more.hidden = shown >= current.length;
  var left = current.length - shown;
  more.textContent = 'show ' + Math.min(PAGE, left) + ' more of ' + left;
  count.textContent = current.length + ' of ' + S.length + ' stories match' +
    (left ? ', ' + shown + ' shown' : '');
}
function update(){
  var t0 = performance.now();
  writeHash();
  current = matching(); shown = 0; list.textContent = '';
  renderMore();
  document.documentElement.setAttribute('data-update-ms', (performance.now() - t0).toFixed(0));
}
var timer = null;
function soon(){ clearTimeout(timer); timer = setTimeout(update, 120); }
q.addEventListener('input', soon);
[lang, minS, maxS].forEach(function(c){
  c.addEventListener('change', update); c.addEventListener('input', soon);
});
more.addEventListener('click', renderMore);
window.addEventListener('hashchange', function(){ readHash(); update(); });
readHash(); update();
document.documentElement.setAttribute('data-rendered', String(shown));
document.documentElement.setAttribute('data-render-ms', performance.now().toFixed(0));
})();
"""

__all__ = ["ERRORS_SCRIPT", "SCRIPT"]
