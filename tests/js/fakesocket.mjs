// A scripted WebSocket that plays the collector for the socket tests (node --test), installed
// as the global ``WebSocket`` with the ``window.location`` core/socket.js reads at call time.

export class FakeSocket {
  /** @type {FakeSocket[]} every socket made, in order */
  static all = [];
  constructor(url) {
    this.url = url;
    this.sent = [];
    FakeSocket.all.push(this);
  }
  /** What the page sent (parsed JSON). */
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.closed = true; }
  open() { this.onopen?.(); }
  /** A frame from the collector. */
  deliver(message) { this.onmessage?.({ data: JSON.stringify(message) }); }
  drop(code, reason = "") { this.onclose?.({ code, reason }); }
}
globalThis.window = { location: { protocol: "http:", host: "h:1" } };
globalThis.WebSocket = FakeSocket;

/** Resolve once ``probe()`` holds (reconnects come after a jittered timer). */
export async function until(probe) {
  const deadline = Date.now() + 5000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
