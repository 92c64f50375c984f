/**
 * The HTML report's only script, inline, allowed by its hash in the page's Content-Security-Policy
 * (script-src 'sha256-…'), so the file stays self-contained and works offline and under a strict CSP.
 * It sorts a table when a column header's button is pressed (numbers as numbers, aria-sort set),
 * filters rows as the reader types (a count of shown rows is announced), and opens every collapsed
 * section before printing. Without script the page is complete: every row is there, in report order.
 * Plain ES2017, no DOM library; written for the browsers admins open reports in.
 */
import { createHash } from 'node:crypto';

export const REPORT_SCRIPT = `(function () {
  'use strict';
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  document.documentElement.className += ' js';
  var valueOf = function (row, i) {
    var cell = row.cells[i];
    if (!cell) return '';
    var v = cell.getAttribute('data-sort');
    return v !== null ? v : cell.textContent.trim();
  };
  var isNumber = function (v) { return v !== '' && !isNaN(Number(v)); };
  each(document.querySelectorAll('table.data'), function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    each(heads, function (th, i) {
      var button = th.querySelector('button.sort');
      if (!button) return;
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        each(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var values = rows.map(function (r) { return valueOf(r, i); });
        var numeric = values.every(function (v) { return v === '' || v === '-' || isNumber(v); });
        var order = rows.map(function (r, k) { return k; });
        order.sort(function (a, b) {
          var x = values[a], y = values[b], d;
          if (numeric) d = (isNumber(x) ? Number(x) : -Infinity) - (isNumber(y) ? Number(y) : -Infinity) || 0;
          else d = x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' });
          return (dir === 'ascending' ? d : -d) || a - b;
        });
        order.forEach(function (k) { body.appendChild(rows[k]); });
      });
    });
  });
  each(document.querySelectorAll('input.filter'), function (input) {
    var scope = document.getElementById(input.getAttribute('data-scope'));
    var count = document.getElementById(input.getAttribute('data-count'));
    if (!scope) return;
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      var shown = 0, total = 0;
      each(scope.querySelectorAll('table.data'), function (table) {
        var hits = 0;
        each(table.tBodies[0].rows, function (row) {
          total += 1;
          var hit = q === '' || row.textContent.toLowerCase().indexOf(q) >= 0;
          row.hidden = !hit;
          if (hit) { shown += 1; hits += 1; }
        });
        var details = table.closest('details');
        if (details && q !== '' && hits > 0) details.open = true;
      });
      if (count) count.textContent = q === '' ? total + ' rows' : shown + ' of ' + total + ' rows match';
    });
  });
  var opened = [];
  window.addEventListener('beforeprint', function () {
    each(document.querySelectorAll('details:not([open])'), function (d) { d.open = true; opened.push(d); });
  });
  window.addEventListener('afterprint', function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();`;

/** The CSP source that allows exactly REPORT_SCRIPT. */
export const REPORT_SCRIPT_HASH = `'sha256-${createHash('sha256').update(REPORT_SCRIPT, 'utf8').digest('base64')}'`;
