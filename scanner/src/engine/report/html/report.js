// skillscan HTML report: severity and verdict filters, kept in the URL fragment
// (#severity=critical,high&verdict=malicious). Allowed by its SHA-256 in the page's
// Content-Security-Policy; it reads and writes nothing but this page.
(function () {
  'use strict';
  var root = document.documentElement;
  var boxes = Array.prototype.slice.call(document.querySelectorAll('input[data-filter]'));
  var kinds = ['severity', 'verdict'];

  function checked(kind) {
    var set = {};
    boxes.forEach(function (box) {
      if (box.getAttribute('data-filter') === kind && box.checked) set[box.value] = true;
    });
    return set;
  }

  function apply() {
    var severities = checked('severity');
    var verdicts = checked('verdict');
    var shown = 0;
    var skills = document.querySelectorAll('section.skill');
    document.querySelectorAll('tr.finding').forEach(function (row) {
      row.hidden = !severities[row.getAttribute('data-severity')];
    });
    skills.forEach(function (skill) {
      var rows = skill.querySelectorAll('tr.finding').length;
      var visible = skill.querySelectorAll('tr.finding:not([hidden])').length;
      var hide = !verdicts[skill.getAttribute('data-verdict')] || (rows > 0 && visible === 0);
      skill.hidden = hide;
      var entry = document.querySelector('tr.skill-row[data-skill="' + skill.id + '"]');
      if (entry) entry.hidden = hide;
      if (!hide) shown += 1;
    });
    var output = document.getElementById('shown');
    if (output) output.textContent = 'showing ' + shown + ' of ' + skills.length + ' skill(s)';
  }

  function readFragment() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    kinds.forEach(function (kind) {
      if (!params.has(kind)) return;
      var wanted = params.get(kind).split(',');
      boxes.forEach(function (box) {
        if (box.getAttribute('data-filter') === kind) box.checked = wanted.indexOf(box.value) >= 0;
      });
    });
  }

  function writeFragment() {
    var parts = kinds.map(function (kind) { return kind + '=' + Object.keys(checked(kind)).join(','); });
    history.replaceState(null, '', '#' + parts.join('&'));
  }

  boxes.forEach(function (box) {
    box.addEventListener('change', function () { apply(); writeFragment(); });
  });
  window.addEventListener('hashchange', function () { readFragment(); apply(); });
  readFragment();
  apply();
  root.setAttribute('data-filters-ready', 'true');
  // The stylesheet sets this custom property: proof that the policy let it apply.
  var styled = getComputedStyle(root).getPropertyValue('--skillscan-styled').trim() === '1';
  root.setAttribute('data-style-applied', styled ? 'true' : 'false');
})();
