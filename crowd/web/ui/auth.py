"""Logging in and out, and the home page that sends each role where it works."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from crowd import runtime
from crowd.domain.errors import TooManyRequests
from crowd.extensions import db
from crowd.services import accounts, members
from crowd.web.ui import bp
from crowd.web.ui.forms import LoginForm, LogoutForm
from crowd.web.ui.worker_home import worker_home_page


@bp.app_context_processor
def _inject_logout_form() -> dict[str, Any]:
    return {"logout_form": LogoutForm()}


def local_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None. Browsers drop tabs and
    newlines from URLs and read a backslash as a slash, so ``/\\t/evil.example``
    and ``/\\evil.example`` would leave the site: any such character refuses it."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if any(ord(ch) < 0x21 or ch in "\\\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        try:
            account = accounts.log_in(db.session, form.username.data, form.password.data,
                                      request.remote_addr, runtime.now())
        except TooManyRequests as refusal:
            error = (f"Too many failed logins. Try again in {refusal.retry_after} "
                     f"second{'s' if refusal.retry_after != 1 else ''}.")
            status, headers = 429, {"Retry-After": str(refusal.retry_after)}
        else:
            if account is not None:
                session.clear()  # a new session at login: nothing of the old one survives
                login_user(account)
                return redirect(local_target(request.args.get("next")) or url_for("ui.home"))
            error, status = "Wrong username or password.", 401
    return render_template("login.html", form=form, error=error), status, headers


@bp.post("/logout")
def logout() -> Any:
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_sessions(db.session, current_user)
        logout_user()
        session.clear()
    return redirect(url_for("ui.login"))


@bp.get("/")
@login_required
def home() -> Any:
    visible = members.visible_projects(db.session, current_user)
    if current_user.role == "worker":  # each project with the worker's standing in it
        return worker_home_page(visible)
    return render_template("home.html", projects=visible, role=current_user.role)
