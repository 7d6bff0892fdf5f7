// Admin API access with the optional bearer token flow shared by fetch and the WebSocket.

const TOKEN_KEY = "llmreplay.token";

let waiting = null; // one pending token prompt, shared by every caller that hit a 401

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

/** Shows the token form once and resolves with what the user typed (stored for this tab). */
export function askToken() {
  if (waiting) return waiting;
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  waiting = new Promise((resolve) => {
    form.hidden = false;
    input.value = "";
    input.focus();
    const submit = (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (!value) return;
      try {
        sessionStorage.setItem(TOKEN_KEY, value);
      } catch {
        // Storage may be disabled; the token then lives only until reload.
      }
      form.hidden = true;
      form.removeEventListener("submit", submit);
      waiting = null;
      memo = value;
      resolve(value);
    };
    form.addEventListener("submit", submit);
  });
  return waiting;
}

let memo = "";
function currentToken() {
  return token() || memo;
}

export function wsUrl() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const t = currentToken();
  // feed=dashboard: this page's messages only, not the original server's (one per event) besides.
  return `${proto}//${location.host}/ws?feed=dashboard${t ? `&token=${encodeURIComponent(t)}` : ""}`;
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** fetch JSON from the admin API; on 401 asks for a token once and retries. Throws ApiError. */
export async function api(method, path, body) {
  for (let attempt = 0; ; attempt += 1) {
    const headers = { accept: "application/json" };
    const t = currentToken();
    if (t) headers.authorization = `Bearer ${t}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, `server unreachable (${err && err.message ? err.message : err})`, null);
    }
    if (resp.status === 401 && attempt < 2) {
      await askToken();
      continue;
    }
    let data = null;
    const text = await resp.text();
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!resp.ok) {
      const msg = data && typeof data.message === "string" ? data.message : `HTTP ${resp.status}`;
      throw new ApiError(resp.status, msg, data);
    }
    return data;
  }
}
