"""The survey web app (Flask), built to be served by waitress on a public host.

Flow: consent page -> trials one at a time (keyboard 1..K / 0 or N, or mouse; progress; an optional
time limit per trial, the participant's study condition) -> done page with the participant's code.
``/withdraw`` deletes every answer of the participant (from the session, or by code).

Security (what a web security reviewer checks):

* CSRF: a random per-session token in every form, compared in constant time on every POST.
* Sessions: a signed cookie holding only the participant code and the CSRF token (HttpOnly,
  SameSite=Strict, Secure with ``secure_cookies``). The secret comes from the caller.
* SQL: only through :mod:`maskaudit.survey.store`, every value a bound parameter.
* Validation: every field is checked against a whitelist or a bounded integer; a participant can only
  answer the trial currently on their screen, once; a time-out only in a time-limited condition;
  a late answer (server clock past the limit plus ``grace_s``) is stored as a time-out.
* Rate limits: sliding one-minute windows per client address (every request) and per participant
  (answers), answered with 429; addresses are held in memory only, never stored.
* Images: only a 32-hex-digit token of the bundle, and only one on the participant's current trial
  screen, served from the bundle's image folder (no path from the request reaches the file system).
* Errors: a plain page with the status; stack traces go to the server log, never to the participant.
* Ground truth: the app never loads the answer key (the bundle has none), and no page shows
  another participant's answers, a score or feedback.
* Headers: a strict Content-Security-Policy (no inline script), no framing, no sniffing, no referrer.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from flask import (
    Flask,
    Response,
    abort,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from jinja2 import DictLoader
from werkzeug.exceptions import HTTPException

from maskaudit.seeding import rng_for
from maskaudit.survey import pages
from maskaudit.survey.bundle import TOKEN, load_bundle
from maskaudit.survey.synthetic import condition_label

log = logging.getLogger(__name__)
CODE = re.compile(r"^[A-Za-z0-9_-]{22}$")
TRIAL_ID = re.compile(r"^t[0-9a-f]{12}$")
MAX_RT_MS = 3_600_000


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds per key (sliding window); ``limit=0``: no limit."""

    def __init__(self, limit: int, window_s: float = 60.0):
        self.limit, self.window = limit, window_s
        self.events: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if not self.limit:
            return True
        now = time.monotonic()
        with self.lock:
            q = self.events[key]
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            if len(self.events) > 100_000:  # forget idle keys so memory stays bounded
                for k in [k for k, v in self.events.items() if not v or v[-1] <= now - self.window]:
                    del self.events[k]
            return True


def create_app(
    bundle_dir,
    store,
    *,
    secret_key: str,
    time_limits=(None,),
    rate_per_address: int = 300,
    rate_per_participant: int = 60,
    grace_s: float = 3.0,
    secure_cookies: bool = False,
    title: str = "Recognising masked faces",
    contact: str = "",
    seed: int = 0,
) -> Flask:
    bundle_dir = Path(bundle_dir)
    bundle = load_bundle(bundle_dir)
    images_dir = (bundle_dir / "images").resolve()
    trials = {t["id"]: t for t in bundle["trials"]}
    k = int(bundle["candidates"])
    conditions = [condition_label(t) for t in time_limits]
    limits = {condition_label(t): (int(t) if t else None) for t in time_limits}
    by_address, by_participant = RateLimiter(rate_per_address), RateLimiter(rate_per_participant)

    app = Flask(__name__, static_folder=None)
    app.jinja_loader = DictLoader(pages.TEMPLATES)
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="survey",
        MAX_CONTENT_LENGTH=16 * 1024,
        MAX_FORM_MEMORY_SIZE=16 * 1024,
        MAX_FORM_PARTS=20,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        DEBUG=False,
    )
    app.extensions["survey_store"] = store

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    def render(name, **kw):
        return render_template(name, title=title, csrf_token=csrf_token(), **kw)

    def current():
        code = session.get("p")
        if not isinstance(code, str) or not CODE.match(code):
            return None
        p = store.participant(code)
        if p is None:  # withdrawn or unknown: forget it
            session.pop("p", None)
        return p

    def next_trial(p) -> tuple[str | None, int]:
        done = store.answered(p["code"])
        for i, t in enumerate(p["order"]):
            if t not in done:
                return t, i
        return None, len(p["order"])

    @app.before_request
    def guard():
        if not by_address.allow(request.remote_addr or "?"):
            abort(429)
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            if not (
                isinstance(sent, str)
                and "csrf" in session
                and hmac.compare_digest(sent, session["csrf"])
            ):
                abort(403, "This form has expired. Please go back to the start page.")

    @app.after_request
    def headers(resp: Response):
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; script-src 'self'; "
            "style-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'"
        )
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        if secure_cookies:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000"
        return resp

    @app.get("/")
    def index():
        p = current()
        if p is not None:
            return redirect(url_for("trial") if p["status"] == "active" else url_for("done"))
        return render(
            "consent.html", n_trials=len(trials), k=k, limited=any(limits.values()), contact=contact
        )

    @app.post("/consent")
    def consent():
        if request.form.get("consent") != "yes" or request.form.get("adult") != "yes":
            abort(400, "Please confirm both boxes to take part.")
        if current() is None:
            code = secrets.token_urlsafe(16)
            order = [
                bundle["trials"][i]["id"]
                for i in rng_for(seed, "survey", "order", code).permutation(len(trials))
            ]
            store.create_participant(code, conditions, bundle["build"], order)
            session["p"] = code
        return redirect(url_for("trial"))

    @app.get("/trial")
    def trial():
        p = current()
        if p is None:
            return redirect(url_for("index"))
        tid, i = next_trial(p)
        if tid is None:
            store.complete(p["code"])
            return redirect(url_for("done"))
        store.show(p["code"], tid)
        t = trials[tid]
        return render(
            "trial.html",
            number=i + 1,
            total=len(p["order"]),
            limit=limits.get(p["condition"]),
            trial_id=tid,
            probe=t["probe"],
            candidates=t["candidates"],
        )

    @app.post("/answer")
    def answer():
        p = current()
        if p is None:
            abort(403, "No survey session. Please start from the first page.")
        if not by_participant.allow(p["code"]):
            abort(429)
        tid = request.form.get("trial_id", "")
        choice = request.form.get("choice", "")
        elapsed = request.form.get("elapsed_ms", "")
        if not TRIAL_ID.match(tid) or tid not in trials:
            abort(400, "Unknown trial.")
        limit = limits.get(p["condition"])
        allowed = {str(j) for j in range(-1, k)} | ({"timeout"} if limit else set())
        if choice not in allowed:
            abort(400, "Unknown answer.")
        rt = (
            int(elapsed)
            if re.fullmatch(r"\d{1,7}", elapsed or "") and int(elapsed) <= MAX_RT_MS
            else None
        )
        if p["shown_trial"] != tid:  # not the trial on screen: answered already, or never shown
            return redirect(url_for("trial"))
        server_ms = int(round((time.time() - float(p["shown_at"])) * 1000))
        timed_out = choice == "timeout" or (
            limit is not None and server_ms > (limit + grace_s) * 1000
        )
        position = p["order"].index(tid)
        store.record(
            p["code"], tid, position, None if timed_out else int(choice), timed_out, rt, server_ms
        )
        return redirect(url_for("trial"))

    @app.get("/done")
    def done():
        p = current()
        if p is None:
            return redirect(url_for("index"))
        if next_trial(p)[0] is not None:
            return redirect(url_for("trial"))
        return render("done.html", code=p["code"])

    @app.route("/withdraw", methods=["GET", "POST"])
    def withdraw():
        p = current()
        if request.method == "GET":
            return render("withdraw.html", in_session=p is not None, deleted=None)
        code = p["code"] if p is not None else request.form.get("code", "").strip()
        if not CODE.match(code):
            abort(400, "That is not a participant code.")
        deleted = store.withdraw(code)
        if deleted is None:
            abort(404, "No participant has that code (perhaps already withdrawn).")
        session.clear()
        return render("withdraw.html", in_session=False, deleted=deleted)

    @app.get("/image/<name>")
    def image(name):
        p = current()
        if not TOKEN.match(name) or p is None or p["shown_trial"] not in trials:
            abort(404)
        t = trials[p["shown_trial"]]
        if name != t["probe"] and name not in t["candidates"]:
            abort(404)
        return send_from_directory(images_dir, name, max_age=0)

    @app.get("/static/<name>")
    def static_file(name):
        if name == "survey.js":
            return Response(pages.SCRIPT, mimetype="text/javascript")
        if name == "survey.css":
            return Response(pages.STYLE, mimetype="text/css")
        abort(404)

    @app.errorhandler(Exception)
    def error(exc):
        if isinstance(exc, HTTPException):
            code = exc.code or 500
            message = (
                exc.description
                if code in (400, 403, 404)
                and exc.description
                and not exc.description.startswith(("The ", "You "))
                else {
                    403: "This form has expired or is not yours.",
                    404: "Not found.",
                    405: "Not allowed.",
                    413: "Too much data.",
                    429: "Too many requests: please wait a minute.",
                }.get(code, "The request could not be handled.")
            )
        else:
            log.exception("unhandled error on %s %s", request.method, request.path)
            code, message = 500, "Something went wrong on our side. Your earlier answers are saved."
        return render_template(
            "error.html", title=title, heading=f"Error {code}", message=message
        ), code

    return app
