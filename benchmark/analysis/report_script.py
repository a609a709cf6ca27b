"""The report page's only script: sortable and filterable tables, no network, no library.

Click a column header to sort its table by that column (again: descending); numbers sort as
numbers (a Unicode minus, a leading ``+``, a ``[low, high]`` interval by its low end; ``–``
cells last). The box above a table keeps the rows whose text contains what is typed.
"""

SCRIPT = r"""
(function () {
  function key(text) {
    var t = text.trim().replace(/\u2212/g, "-").replace(/^\[/, "");
    var m = t.match(/^[+-]?\d+(\.\d+)?(e[+-]?\d+)?/i);
    return m ? parseFloat(m[0]) : null;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var desc = th.getAttribute("aria-sort") === "ascending";
    rows.sort(function (a, b) {
      var x = a.cells[col].textContent, y = b.cells[col].textContent;
      var kx = key(x), ky = key(y);
      if (kx === null && ky === null) { return desc ? y.localeCompare(x) : x.localeCompare(y); }
      if (kx === null) { return 1; }
      if (ky === null) { return -1; }
      return desc ? ky - kx : kx - ky;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sortBy(table, col, th); });
    });
    var box = document.createElement("input");
    box.type = "search";
    box.placeholder = "filter rows";
    box.className = "filter";
    box.addEventListener("input", function () {
      var q = box.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
    table.parentNode.parentNode.insertBefore(box, table.parentNode);
  });
})();
"""
