// CRM Admin page: the Link/Relink menu, the Salesforce popup, and the Unlink dialog.
// Progressive enhancement: without this script the menu is always visible, Link/Relink runs the OAuth
// flow in this tab, and Unlink goes to a confirmation page. The server is the source of truth: whatever
// the popup reports, or however it closes, the page asks the attempt-status endpoint for the outcome.

const POPUP_NAME = "vcc-salesforce-login";
const MESSAGE_TYPE = "vcc-crm-admin:salesforce-link";
const FAST_POLL_MS = 1500;
const SLOW_POLL_MS = 5000;
const CLOSED_GRACE_CHECKS = 3; // popup.closed must read true this many times (500 ms apart)
const ATTEMPT_LIFETIME_MS = 10 * 60 * 1000;

const root = document.getElementById("crm-admin");
const outcome = document.getElementById("link-outcome");
const area = document.getElementById("credentials-area");
const activity = document.getElementById("activity-area");

let popup = null;
let attempt = null; // {ref, startedAt, final, abandoned, closedChecks, watchTimer, pollTimer}
let lastChoice = null; // {orgType} for "continue in this tab"

function csrfToken() {
  const input = area.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

// --- Live region ------------------------------------------------------------------------------------

function announce(text, kind, action) {
  outcome.replaceChildren();
  outcome.className = `outcome outcome--${kind}`;
  const p = document.createElement("p");
  p.textContent = text;
  outcome.append(p);
  if (action) {
    outcome.append(action);
  }
}

function continueInTabButton() {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn--link";
  button.dataset.continueInTab = "";
  button.textContent = "Continue in this tab";
  return button;
}

// --- Menu button (WAI-ARIA menu button pattern) ----------------------------------------------------

function menuOf(button) {
  return document.getElementById(button.getAttribute("aria-controls"));
}

function items(menu) {
  return [...menu.querySelectorAll('[role="menuitem"]')];
}

function openMenu(button, focusLast = false) {
  const menu = menuOf(button);
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  const list = items(menu);
  (focusLast ? list[list.length - 1] : list[0]).focus();
}

function closeMenus(returnFocus = false) {
  for (const button of document.querySelectorAll("[data-menu-button]")) {
    if (button.getAttribute("aria-expanded") === "true") {
      menuOf(button).hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (returnFocus) {
        button.focus();
      }
    }
  }
}

function enhance() {
  // Without JavaScript the menu is shown inline; with it, the button toggles it.
  for (const button of document.querySelectorAll("[data-menu-button]")) {
    const root = button.closest("[data-menu-root]");
    // Someone already working in the inline menu (before this script loaded) keeps it open.
    const inUse = root.contains(document.activeElement) && document.activeElement !== document.body;
    menuOf(button).hidden = !inUse;
    button.setAttribute("aria-expanded", String(inUse));
    root.classList.add("menu-button--enhanced");
  }
}

document.addEventListener("keydown", (event) => {
  const button = event.target.closest?.("[data-menu-button]");
  if (button && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    openMenu(button, event.key === "ArrowUp");
    return;
  }
  const item = event.target.closest?.('[role="menuitem"]');
  if (!item) {
    return;
  }
  const list = items(item.closest('[role="menu"]'));
  const index = list.indexOf(item);
  const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: list.length - 1 };
  if (event.key in moves) {
    event.preventDefault();
    list[(moves[event.key] + list.length) % list.length].focus();
  } else if (event.key === "Escape") {
    event.preventDefault();
    closeMenus(true);
  } else if (event.key === "Tab") {
    closeMenus();
  }
});

document.addEventListener("click", (event) => {
  const menuButton = event.target.closest("[data-menu-button]");
  if (menuButton) {
    if (menuButton.getAttribute("aria-expanded") === "true") {
      closeMenus();
    } else {
      openMenu(menuButton);
    }
    return;
  }
  const item = event.target.closest('[role="menuitem"]');
  if (item && item.form && item.form.matches("[data-link-form]")) {
    event.preventDefault();
    startLink(item.form, item.value);
    return;
  }
  if (!event.target.closest("[data-menu]")) {
    closeMenus();
  }
  if (event.target.closest("[data-continue-in-tab]")) {
    continueInTab();
  } else if (event.target.closest("[data-unlink-open]")) {
    event.preventDefault();
    document.getElementById("unlink-dialog")?.showModal();
  } else if (event.target.closest("[data-dialog-cancel]")) {
    event.target.closest("dialog").close();
  }
});

// --- The popup flow -----------------------------------------------------------------------------------

function submitInto(form, orgType, display, ref, target) {
  const hidden = document.createElement("input");
  hidden.type = "hidden";
  hidden.name = "org_type";
  hidden.value = orgType;
  form.append(hidden);
  form.elements.display.value = display;
  form.elements.client_ref.value = ref;
  form.target = target;
  form.submit();
  hidden.remove();
  form.removeAttribute("target");
  form.elements.display.value = "tab";
}

function startLink(form, orgType) {
  closeMenus();
  if (attempt && !attempt.final && !attempt.abandoned && popup && !popup.closed) {
    popup.focus(); // a second click while Salesforce is open focuses it instead of starting again
    announce("The Salesforce window is already open. Finish there, or close it to cancel.", "pending");
    return;
  }
  lastChoice = { form, orgType };
  // Opened synchronously inside the click so that popup blockers allow it.
  const width = 520;
  const height = 700;
  const left = Math.max(0, window.screenX + (window.outerWidth - width) / 2);
  const top = Math.max(0, window.screenY + (window.outerHeight - height) / 2);
  const win = window.open("", POPUP_NAME, `popup,width=${width},height=${height},left=${left},top=${top}`);
  if (!win) {
    announce(
      "Your browser blocked the Salesforce window. Allow pop-ups for this site and try again, or continue in this tab.",
      "error",
      continueInTabButton(),
    );
    return;
  }
  stopWatching();
  popup = win;
  attempt = { ref: crypto.randomUUID(), startedAt: Date.now(), final: false, abandoned: false, closedChecks: 0 };
  submitInto(form, orgType, "popup", attempt.ref, POPUP_NAME);
  announce("Waiting for Salesforce… Log in as the API user in the new window, then click Allow.", "pending");
  attempt.watchTimer = window.setInterval(watchPopup, 500);
  attempt.pollTimer = window.setInterval(refresh, FAST_POLL_MS);
}

function continueInTab() {
  if (lastChoice) {
    submitInto(lastChoice.form, lastChoice.orgType, "tab", "", "_self");
  }
}

function stopWatching() {
  if (attempt) {
    window.clearInterval(attempt.watchTimer);
    window.clearInterval(attempt.pollTimer);
  }
}

async function fetchAttempt(method) {
  const url = method === "POST" ? root.dataset.abandonUrl : `${root.dataset.statusUrl}?ref=${attempt.ref}`;
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method === "POST") {
    options.headers["X-CSRFToken"] = csrfToken();
    options.body = new URLSearchParams({ ref: attempt.ref });
  }
  const response = await fetch(url, options);
  if (response.status === 404) {
    return null; // the popup's form has not reached the server yet
  }
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  return response.json();
}

async function refresh() {
  if (!attempt || attempt.final) {
    return;
  }
  const current = attempt;
  try {
    const data = await fetchAttempt("GET");
    if (data && current === attempt) {
      show(data);
    }
  } catch {
    // A passing network error: the next poll asks again.
  }
  if (current === attempt && !current.final && Date.now() - current.startedAt > ATTEMPT_LIFETIME_MS) {
    stopWatching();
  }
}

function show(data) {
  if (data.final) {
    attempt.final = true;
    stopWatching();
    area.innerHTML = data.credentials_html; // rendered and escaped by the server's templates
    activity.innerHTML = data.activity_html;
    enhance();
    announce(data.message, data.status === "linked" ? "success" : "error");
    if (popup && !popup.closed) {
      popup.close();
    }
  } else if (data.status === "abandoned" && !attempt.abandoned) {
    attempt.abandoned = true;
    announce(data.message, "info");
  }
}

async function watchPopup() {
  if (!attempt || attempt.final || attempt.abandoned) {
    return;
  }
  // COOP can make popup.closed read true while the window is still open, so "closed" alone is never
  // taken as failure: ask the server, and only then mark the attempt abandoned.
  attempt.closedChecks = popup && popup.closed ? attempt.closedChecks + 1 : 0;
  if (attempt.closedChecks === 1) {
    refresh();
  }
  if (attempt.closedChecks < CLOSED_GRACE_CHECKS) {
    return;
  }
  const current = attempt;
  try {
    const data = await fetchAttempt("POST");
    if (current !== attempt) {
      return;
    }
    if (data) {
      show(data);
    } else {
      current.abandoned = true;
      announce("Linking was cancelled: the Salesforce window was closed before access was allowed.", "info");
    }
    if (current.abandoned) {
      // Keep asking, slowly: if the window was in fact still open, a late success still shows.
      window.clearInterval(current.pollTimer);
      window.clearInterval(current.watchTimer);
      current.pollTimer = window.setInterval(refresh, SLOW_POLL_MS);
    }
  } catch {
    current.closedChecks = 0;
  }
}

window.addEventListener("message", (event) => {
  // Checklist B3: only our own origin, only our popup, only the expected shape; then ask the server.
  if (event.origin !== window.location.origin || !popup || event.source !== popup) {
    return;
  }
  const data = event.data;
  if (!data || data.type !== MESSAGE_TYPE || !attempt || data.flow_id !== attempt.ref) {
    return;
  }
  refresh();
});

enhance();
