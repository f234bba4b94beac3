// The login page: exchange an API key for a session cookie, then open the UI.
import { postJson } from "./api.js";

/** @param {string} message */
function showError(message) {
  const box = /** @type {HTMLElement} */ (document.getElementById("login-error"));
  box.textContent = message;
  box.hidden = false;
}

/** @param {SubmitEvent} event */
async function onSubmit(event) {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (document.getElementById("api-key"));
  const reply = await postJson("/api/v1/ui/session", { apiKey: input.value.trim() });
  input.value = "";
  if (reply.ok) {
    window.location.assign("/");
  } else {
    showError(reply.message);
  }
}

const form = /** @type {HTMLFormElement} */ (document.getElementById("login-form"));
form.addEventListener("submit", onSubmit);
if (new URLSearchParams(window.location.search).get("link") === "invalid") {
  showError("That login link is invalid, expired or already used. Log in with your API key.");
}
