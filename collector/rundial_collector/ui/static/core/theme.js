// Dark and light themes: the system setting (prefers-color-scheme) by default, overridden by
// the topbar's #theme-toggle, whose choice is kept in localStorage. The override is the
// ``data-theme`` attribute on <html> (style.css has both palettes); no attribute = system.

export const THEME_KEY = "rundial-theme";

/**
 * The theme a click on the toggle switches to: the opposite of what is shown now.
 * @param {string | null} stored "dark" | "light" | null (follow the system)
 * @param {boolean} systemDark
 * @returns {"dark" | "light"}
 */
export function nextTheme(stored, systemDark) {
  const shown = stored === "dark" || stored === "light" ? stored : systemDark ? "dark" : "light";
  return shown === "dark" ? "light" : "dark";
}

/**
 * The stored choice, or null (missing, unreadable storage, or an unknown value).
 * @returns {"dark" | "light" | null}
 */
export function storedTheme() {
  try {
    const value = window.localStorage.getItem(THEME_KEY);
    return value === "dark" || value === "light" ? value : null;
  } catch {
    return null;
  }
}

/** @returns {boolean} */
function systemDark() {
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

/**
 * Show ``theme`` (null = follow the system) and label the toggle with what a click does.
 * @param {"dark" | "light" | null} theme
 */
export function applyTheme(theme) {
  const root = document.documentElement;
  if (theme) root.dataset.theme = theme;
  else delete root.dataset.theme;
  const button = document.getElementById("theme-toggle");
  if (button) {
    const next = nextTheme(theme, systemDark());
    button.textContent = next === "dark" ? "☾" : "☀";
    button.title = `Switch to the ${next} theme`;
    button.setAttribute("aria-label", button.title);
  }
}

/** Apply the stored theme and make #theme-toggle switch and remember it. */
function install() {
  applyTheme(storedTheme());
  document.getElementById("theme-toggle")?.addEventListener("click", () => {
    const theme = nextTheme(storedTheme(), systemDark());
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch {
      // storage disabled: the choice lasts for this page only
    }
    applyTheme(theme);
  });
}

if (typeof document !== "undefined") install();
