"""The UI benchmark's harness: a logged-in browser context, the DOM-contract waits, and the
printing of medians (a figure that never reaches its state prints ``n/a (reason)``).

Used by ``benchmarks/ui.py``; see its docstring for what each figure measures.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from typing import Any

from tests.helpers.collector_proc import CollectorProcess

GOALS_MS = {"chart-1m": 300.0, "dashboard": 1500.0, "chart-1m (running)": 300.0,
            "dashboard (running)": 1500.0, "zoom": 250.0, "live": 2000.0,
            "table first paint": 1000.0, "table sort": 100.0, "table filter": 100.0}
# Capture listeners on window run before any listener of the page's own elements.
EVENT_CLOCK = """for (const name of ["mouseup", "click", "input"]) {
  window.addEventListener(name, () => { window["__bench_" + name] = performance.now(); }, true);
}"""

# Reports each chart's first draw as a console message, so that a navigation's wait evaluates
# nothing in the page while it loads (Playwright's wait_for_function injects its own script
# into each new document, main-thread work that would be counted in the figure).
DRAWN_WATCH = """(() => {
  const seen = new WeakSet();
  const watch = new MutationObserver(() => {
    for (const chart of document.querySelectorAll('.chart[data-key][data-state="drawn"]')) {
      if (seen.has(chart)) continue;
      seen.add(chart);
      console.debug(DRAWN + JSON.stringify([chart.dataset.key, Number(chart.dataset.drawnMs)]));
    }
  });
  watch.observe(document, {subtree: true, childList: true, attributes: true,
                           attributeFilter: ["data-state"]});
})();""".replace("DRAWN", '"rundial-bench drawn "')
DRAWN_PREFIX = "rundial-bench drawn "

SHOWN_WATCH = """([selector, attribute, before]) => {
    window.__bench_shown = null;
    const changed = () => document.querySelector(selector)?.getAttribute(attribute) !== before;
    const watch = new MutationObserver(() => {
      if (!changed()) return;
      watch.disconnect();
      requestAnimationFrame(() => { window.__bench_shown = performance.now(); });
    });
    watch.observe(document.querySelector("#runs-table") ?? document.body,
                  {attributes: true, childList: true, subtree: true});
}"""


class NotReached(Exception):
    """The page did not reach the state a figure waits for (the reason is printed)."""


def summary(name: str, samples: list[float], baseline: float | None = None) -> float:
    median = statistics.median(samples)
    goal = GOALS_MS.get(name)
    text = f"  {name:<28} {median:8.1f} ms  (min {min(samples):.1f}, max {max(samples):.1f}"
    text += f", n={len(samples)})"
    if goal:
        text += f"  {median / goal:.2f} of the {goal:g} ms goal"
    if baseline:
        text += f"  x{median / baseline:.1f} the baseline"
    print(text, flush=True)
    return median


def measure(name: str, fn: Callable[[], list[float]], baseline: float | None = None
            ) -> float | None:
    """Print the figure's median, or ``n/a (reason)`` when its page never got there."""
    try:
        return summary(name, fn(), baseline)
    except NotReached as exc:
        print(f"  {name:<28} n/a ({exc})", flush=True)
    except Exception as exc:  # a playwright timeout or a page error: the figure is not there
        print(f"  {name:<28} n/a ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})",
              flush=True)
    return None


class Pages:
    """One logged-in browser context on the collector, and the waits of the DOM contract."""

    def __init__(self, browser: Any, proc: CollectorProcess, wait_ms: float) -> None:
        self.proc, self.wait_ms = proc, wait_ms
        self.context = browser.new_context(base_url=proc.url,
                                           viewport={"width": 1600, "height": 1000})
        self.context.add_init_script(EVENT_CLOCK)
        self.context.add_init_script(DRAWN_WATCH)
        reply = self.context.request.post("/api/v1/ui/session", data={"apiKey": proc.api_key})
        if not reply.ok:
            raise NotReached(f"UI login answered {reply.status}")
        self.page = self.context.new_page()

    def project_url(self, project: str, **state: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in state.items())
        return f"/p/{self.proc.workspace}/{project}" + (f"?{query}" if query else "")

    def until(self, script: str, arg: Any = None, what: str = "") -> Any:
        """The truthy value of ``script(arg)`` at the first animation frame it has one."""
        try:
            return self.page.wait_for_function(script, arg=arg, timeout=self.wait_ms,
                                               polling="raf").json_value()
        except Exception as exc:
            raise NotReached(f"{what or 'state'} not reached in {self.wait_ms / 1000:g} s "
                             f"({type(exc).__name__}; {self.chart_states()})") from exc

    def chart_states(self) -> str:
        """What the page shows of the contract, for an n/a reason (never raises)."""
        try:
            return str(self.page.evaluate("""() => {
                const count = {};
                for (const c of document.querySelectorAll(".chart[data-key]")) {
                  count[c.dataset.state] = (count[c.dataset.state] ?? 0) + 1;
                }
                const grid = document.querySelector("#chart-grid")?.dataset.state ?? "absent";
                const table = document.querySelector("#runs-table")?.dataset.state ?? "absent";
                return `grid ${grid}, charts ${JSON.stringify(count)}, table ${table}`; }"""))
        except Exception as exc:  # the page itself is gone or navigating
            return f"page state unknown: {type(exc).__name__}"

    def chart_drawn_ms(self, url: str, key: str) -> float:
        """Navigate to ``url``; ``data-drawn-ms`` of the chart of ``key`` at its first draw
        (told by :data:`DRAWN_WATCH`'s console message: nothing is evaluated in the page)."""
        def drawn(message: Any) -> bool:
            return str(message.text).startswith(DRAWN_PREFIX + json.dumps([key], ensure_ascii=False)[:-1] + ",")

        try:
            with self.page.expect_console_message(drawn, timeout=self.wait_ms) as told:
                self.page.goto(url, wait_until="commit")
        except Exception as exc:
            raise NotReached(f"chart {key} drawn not reached in {self.wait_ms / 1000:g} s "
                             f"({type(exc).__name__}; {self.chart_states()})") from exc
        return float(json.loads(told.value.text[len(DRAWN_PREFIX):])[1])

    def arm_shown(self, selector: str, attribute: str, before: str | None) -> None:
        """Set ``window.__bench_shown`` to ``performance.now()`` in the first animation frame
        after the DOM change that makes ``selector``'s ``attribute`` differ from ``before`` (a
        mutation observer armed before the interaction, so Playwright's own round trips are
        not counted)."""
        self.page.evaluate(SHOWN_WATCH, [selector, attribute, before])

    def tall_viewport(self, height_px: int) -> None:
        """Make the viewport ``height_px`` tall (1600 px wide); 1000 restores the default."""
        self.page.set_viewport_size({"width": 1600, "height": height_px})

    def timeline(self) -> str:
        """Where the last navigation's time went: the page's HTML, its modules (how many, how
        many came over the network rather than from the cache, when the last was in),
        DOMContentLoaded, then each API route (run ids folded into ``*``) with its request
        count, first start and last end (ms since the navigation started) and the collector's
        own time (the largest ``Server-Timing`` total), in start order."""
        return str(self.page.evaluate("""() => {
            const nav = performance.getEntriesByType("navigation")[0];
            const routes = new Map();
            const modules = {n: 0, fetched: 0, end: 0};
            for (const e of performance.getEntriesByType("resource")) {
              const path = new URL(e.name).pathname;
              if (path.endsWith(".js")) {
                modules.n += 1;
                modules.fetched += e.transferSize > 0 ? 1 : 0;
                modules.end = Math.max(modules.end, e.responseEnd);
              }
              if (!path.startsWith("/api/v1/")) continue;
              const name = path.slice(8).replace(/\\/runs\\/[^/]+$/, "/runs/*")
                .replace(/^workspaces\\/[^/]+\\/projects\\/[^/]+\\//, "");
              const r = routes.get(name) ?? {n: 0, start: e.startTime, end: 0, server: null};
              r.n += 1;
              r.end = Math.max(r.end, e.responseEnd);
              const total = e.serverTiming.find((t) => t.name === "total")?.duration;
              if (total !== undefined) r.server = Math.max(r.server ?? 0, total);
              routes.set(name, r);
            }
            const api = [...routes].map(([name, r]) =>
              `${name}${r.n > 1 ? " x" + r.n : ""} ${r.start.toFixed(0)}-${r.end.toFixed(0)}` +
              (r.server === null ? "" : ` (server ${r.server.toFixed(0)})`));
            return `HTML ${nav ? nav.responseEnd.toFixed(0) : "?"}; modules ${modules.n} ` +
              `(${modules.fetched} fetched) by ${modules.end.toFixed(0)}; ` +
              `DOMContentLoaded ${nav ? nav.domContentLoadedEventEnd.toFixed(0) : "?"}; ` +
              `API ${api.join(", ") || "none"}`; }"""))

    def all_drawn_ms(self, url: str, count: int, runs: int = 1) -> float:
        """Navigate to ``url``; the largest ``data-drawn-ms`` once ``count`` charts are drawn,
        each with a series of ``runs`` runs (what ``window.__rundialCharts`` says it was given).

        The grid fetches and draws only charts near the viewport, so the caller sizes the
        viewport to hold them all (:meth:`tall_viewport`)."""
        self.page.goto(url, wait_until="commit")
        return float(self.until("""([count, runs]) => {
            const grid = document.querySelector("#chart-grid");
            const charts = [...document.querySelectorAll(".chart[data-key]")];
            if (grid?.dataset.state !== "ready" || charts.length < count) return false;
            if (!charts.every((c) => c.dataset.state === "drawn" &&
                (window.__rundialCharts?.get(c.dataset.key)?.series.length ?? 0) >= runs)) {
              return false;
            }
            return Math.max(...charts.map((c) => Number(c.dataset.drawnMs))); }""",
                                [count, runs], f"{count} charts of {runs} runs drawn"))
