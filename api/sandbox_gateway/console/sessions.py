"""Console sessions: an API key is exchanged once for a random session id kept server-side (the key itself is
never stored or sent back), carried by an HttpOnly, SameSite=Strict cookie, marked Secure when the console is
served over https (or `SANDBOX_COOKIE_SECURE=1`); each session has its own CSRF token, which every form and htmx
request sends back and every POST is checked against. The sign-in form, before any session, is protected by a
token of its own (double submit: a random token in a short-lived HttpOnly, SameSite=Strict cookie and in the
form; the POST must carry both, equal), so another site cannot sign a browser in under its own key."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from sandbox_gateway.principals import Principal

COOKIE = "sandbox_console"
#: The sign-in form's CSRF cookie (before a session exists).
LOGIN_COOKIE = "sandbox_console_login"
#: How long a sign-in form stays valid.
LOGIN_SECONDS = 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
#: A session unused this long is signed out.
IDLE_SECONDS = 8 * 3600.0
#: Most sessions kept at once (the oldest are dropped first).
MAX_SESSIONS = 10_000


@dataclass
class Session:
    id: str
    principal: Principal
    csrf: str
    last_seen: float = field(default_factory=time.monotonic)

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class SessionStore:
    """Sessions in memory: a restarted gateway signs everyone out."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.idle_seconds = idle_seconds

    def open(self, principal: Principal) -> Session:
        session = Session(secrets.token_urlsafe(32), principal, secrets.token_urlsafe(32))
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
                del self._sessions[oldest.id]
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def close(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
