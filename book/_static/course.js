// Small repairs to the theme, run on every page (Jupyter Book loads every .js file in
// book/_static): each is checked in the browser by tests/test_book_reader.py.
"use strict";

// The book's sidebar (title, search, chapter list) as a navigation landmark: the theme leaves
// the site title outside every landmark (axe: region).
function labelSidebar() {
  const sidebar = document.getElementById("pst-primary-sidebar");
  if (sidebar && !sidebar.hasAttribute("role")) {
    sidebar.setAttribute("role", "navigation");
    sidebar.setAttribute("aria-label", "Book");
  }
}

// Search excerpts: Sphinx takes them from the page's [role=main], which in this theme begins
// with the header buttons' labels (".md", ".pdf"), so every excerpt read "....md". The
// buttons, the page contents (on screen and for print) and the footers are left out of the text
// it searches.
const NOT_CONTENT = ".bd-header-article, .bd-sidebar-secondary, .onlyprint, .prev-next-area, footer";

function searchPageTextOnly() {
  if (typeof Search === "undefined" || !Search.htmlToText) return;
  const pageText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(NOT_CONTENT).forEach((el) => el.remove());
    return pageText(page.documentElement.outerHTML, anchor);
  };
}

// Tables and display equations too wide for the screen scroll in their own box (course.css);
// keyboard users must be able to focus such a box to scroll it (axe: scrollable-region-focusable).
function focusableScrollBoxes() {
  document.querySelectorAll('.bd-article table.table, .bd-article mjx-container[display="true"]')
    .forEach((box) => {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
    });
}

document.addEventListener("DOMContentLoaded", () => {
  labelSidebar();
  searchPageTextOnly();
});
window.addEventListener("load", () => {
  focusableScrollBoxes();
  const mathjax = window.MathJax && MathJax.startup && MathJax.startup.promise;
  if (mathjax) mathjax.then(focusableScrollBoxes);   // equations exist once MathJax has typeset
});
