"""Logging in and out, and the home page that sends each role where it works."""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from crowd.extensions import db
from crowd.services import accounts, projects
from crowd.web.ui import bp
from crowd.web.ui.forms import LoginForm, LogoutForm


@bp.app_context_processor
def _inject_logout_form() -> dict[str, Any]:
    return {"logout_form": LogoutForm()}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        account = accounts.authenticate(db.session, form.username.data, form.password.data)
        if account is not None:
            login_user(account)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/") and not target.startswith("//")
                            else url_for("ui.home"))
        error = "Wrong username or password."
    return render_template("login.html", form=form, error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    if LogoutForm().validate_on_submit():
        logout_user()
    return redirect(url_for("ui.login"))


@bp.get("/")
@login_required
def home() -> Any:
    return render_template("home.html", projects=projects.list_projects(db.session),
                           role=current_user.role)
