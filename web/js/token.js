// The API token the viewer sends as `Authorization: Bearer`, kept in this browser's
// localStorage, and the dialog that asks for one when the server answers 401.

import { el } from "./ui.js";

const KEY = "mofront.apiToken";

export function storedToken() {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: the user is asked again on the next 401
  }
}

function storeToken(token) {
  try {
    window.localStorage.setItem(KEY, token);
  } catch {
    // kept for this request only
  }
}

let asking = null;

/** Ask for a token (one dialog however many requests were refused at once); resolves
 *  with the token entered, now stored, or null when the user cancelled. */
export function askForToken(reason) {
  if (!asking) asking = showDialog(reason).finally(() => { asking = null; });
  return asking;
}

function showDialog(reason) {
  return new Promise((resolve) => {
    const input = el("input", {
      type: "password", id: "token-input", name: "token", autocomplete: "off",
      spellcheck: "false", required: true,
    });
    const dialog = el("dialog", { id: "token-dialog", "aria-labelledby": "token-title" },
      el("form", { method: "dialog" },
        el("h2", { id: "token-title" }, "API token needed"),
        el("p", { id: "token-reason" }, reason),
        el("label", {}, "Token ", input),
        el("p", { class: "small muted" },
          "Kept in this browser and sent with every request. An administrator creates one with ",
          el("code", {}, "mofront token create --scope read"), " (or submit, to run campaigns)."),
        el("div", { class: "toolbar" },
          el("button", { type: "submit", value: "use", id: "token-use" }, "Use token"),
          el("button", {
            type: "button", class: "secondary", id: "token-cancel", onclick: () => dialog.close(""),
          }, "Cancel"))));
    dialog.addEventListener("close", () => {
      const token = dialog.returnValue === "use" ? input.value.trim() : "";
      dialog.remove();
      if (token) storeToken(token);
      resolve(token || null);
    });
    document.body.append(dialog);
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}
