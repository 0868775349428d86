// Small keyboard helpers. "/" focuses the page's search box; Escape leaves it.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  if (event.key === "/" && !typing) {
    const search = document.querySelector("[data-search-box]");
    if (search) { event.preventDefault(); search.focus(); }
  } else if (event.key === "Escape" && typing && target.hasAttribute("data-search-box")) {
    target.blur();
  }
});
