// Keyboard use beyond Tab and Enter: arrow keys in the tab strip, and Alt shortcuts to the
// places an agent goes most (documented in the panel).

/** Left/Right/Home/End move between tabs (the WAI-ARIA tabs pattern). */
export function onTabKey(app, event) {
  if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
  const ids = app.tabIds();
  if (!ids.length) return;
  let index = ids.indexOf(app.active);
  if (event.key === "ArrowLeft") index = (index - 1 + ids.length) % ids.length;
  if (event.key === "ArrowRight") index = (index + 1) % ids.length;
  if (event.key === "Home") index = 0;
  if (event.key === "End") index = ids.length - 1;
  event.preventDefault();
  app.activate(ids[index]);
  (ids[index] === "supervisor" ? app.supervisor.tab : app.windows.get(ids[index]).tab).focus();
}

/** Alt+R requests, Alt+M reply box, Alt+N new chat, Alt+1..9 tabs. */
export function onShortcut(app, event) {
  if (!event.altKey || event.ctrlKey || event.metaKey || !app.user) return;
  const key = event.key.toLowerCase();
  if (key === "r") {
    if (!app.requestList.focusFirst()) document.getElementById("requests-heading").focus();
  } else if (key === "m") {
    app.windows.get(app.active)?.focusComposer();
  } else if (key === "n") {
    document.getElementById("dialpad-number").focus();
  } else if (/^[1-9]$/.test(key)) {
    const id = app.tabIds()[Number(key) - 1];
    if (id === undefined) return;
    app.activate(id);
  } else {
    return;
  }
  event.preventDefault();
}
