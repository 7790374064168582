// Sortable tables: click a column header to sort by it, again to reverse.
// Cells sort by their data-sort value when present (numbers numerically,
// empty values last), else by their text. Nothing else runs on this page.
(function () {
  "use strict";
  function sortValue(cell) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (raw === "") { return null; }
    var number = Number(raw);
    return isNaN(number) ? raw.toLowerCase() : number;
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : (a > b ? 1 : 0); }
    return typeof a === "number" ? -1 : 1;
  }
  function sortBy(table, header, column) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var headers = table.tHead.rows[0].cells;
    for (var h = 0; h < headers.length; h++) { headers[h].removeAttribute("aria-sort"); }
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, index) {
      return { row: row, index: index, value: sortValue(row.cells[column]) };
    });
    rows.sort(function (x, y) {
      if (x.value === null || y.value === null) {
        return (x.value === null) - (y.value === null) || x.index - y.index;
      }
      var order = compare(x.value, y.value);
      return (ascending ? order : -order) || x.index - y.index;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (item) { fragment.appendChild(item.row); });
    body.appendChild(fragment);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      var button = header.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(table, header, column); }); }
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
