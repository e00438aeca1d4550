"""A demo project of product reviews to label by sentiment, and demo users."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from crowd.extensions import db
from crowd.persistence import Project, ProjectMember, User
from crowd.services.accounts import generate_password
from crowd.services.importing import import_items

DEMO_PROJECT = "Demo: product review sentiment"
DEMO_USERS = (("demo-worker", "worker"), ("demo-worker-2", "worker"),
              ("demo-expert", "expert"), ("demo-manager", "manager"), ("demo-admin", "admin"))
WHAT_EACH_DOES = (
    "workers label the reviews (a 4-item qualification round with feedback comes first);",
    "the expert settles the items the crowd could not agree on;",
    "the manager watches progress and worker scores, and manages the team;",
    "the admin sees every project and can manage accounts.",
)
GUIDELINES = (
    "Read the customer review and pick the sentiment the writer expresses about the product.\n"
    "positive: they are pleased overall. negative: they are unhappy overall.\n"
    "neutral: mixed, factual or no clear opinion."
)

PRODUCTS = ("kettle", "backpack", "phone case", "desk lamp", "blender", "rain jacket",
            "headphones", "coffee grinder", "yoga mat", "e-reader", "air fryer", "office chair")
OPENERS = {
    "positive": ("Absolutely love this {p}.", "Best {p} I have owned.",
                 "Really happy with this {p}.", "This {p} exceeded my expectations."),
    "negative": ("Very disappointed with this {p}.", "The {p} broke within a week.",
                 "Would not buy this {p} again.", "This {p} is a waste of money."),
    "neutral": ("The {p} arrived on Tuesday.", "It is a {p}; it does what a {p} does.",
                "Bought this {p} as a spare.", "The {p} is about what I expected."),
}
DETAILS = {
    "positive": ("Solid build and it works perfectly.", "Great value, would recommend.",
                 "Fast shipping and well packaged."),
    "negative": ("Customer service never replied.", "It stopped working after two uses.",
                 "Cheap materials and it smells of plastic."),
    "neutral": ("Colour is as shown in the photos.", "Some good points, some bad.",
                "Too early to say how it holds up."),
}


@dataclass
class DemoSummary:
    project_id: int
    items: int
    gold: int
    credentials: list[tuple[str, str, str]]


def _reviews(n: int, rng: np.random.Generator) -> list[tuple[str, str, str]]:
    classes = list(OPENERS)
    combos = list(itertools.product(classes, range(4), range(3), range(len(PRODUCTS))))
    picks = rng.choice(len(combos), size=n, replace=False)
    out = []
    for k in picks:
        label, o, d, p = combos[k]
        product = PRODUCTS[p]
        out.append((f"{OPENERS[label][o].format(p=product)} {DETAILS[label][d]}", product, label))
    return out


def seed(n_items: int = 120, n_gold: int = 30) -> DemoSummary:
    """Create (or refresh) the demo project and users; new passwords each run."""
    session = db.session
    rng = np.random.default_rng(7)
    project = session.scalar(select(Project).where(Project.name == DEMO_PROJECT))
    if project is None:
        project = Project(
            name=DEMO_PROJECT, labels=["positive", "negative", "neutral"], guidelines=GUIDELINES,
            guidelines_version=1, redundancy=3, max_redundancy=5, confidence_threshold=0.95,
            # A 4-item nominal qualification round: 4 of 4 passes at once; a miss
            # means more gold, up to 12 (crowd.domain.qualification). 30 gold is enough.
            gold_rate=0.1, lease_seconds=600, qualification_size=4, qualification_accuracy=0.75,
            min_accuracy=0.7, drift_window=20, review_rate=0.05,
        )
        session.add(project)
        session.commit()
    rows = []
    for index, (text, product, label) in enumerate(_reviews(n_items + n_gold, rng)):
        gold = index < n_gold
        rows.append({
            "external_id": f"{'gold' if gold else 'review'}-{index + 1:04d}",
            "data": {"product": product, "review": text},
            **({"gold_label": label} if gold else {}),
        })
    import_items(session, project.id, rows, rng)
    credentials = []
    for username, role in DEMO_USERS:
        password = generate_password()
        account = session.scalar(select(User).where(User.username == username))
        if account is None:
            account = User(username=username, role=role, password_hash="")
            session.add(account)
        account.password_hash = generate_password_hash(password, method="scrypt")
        account.session_version = (account.session_version or 0) + 1  # old sessions end
        credentials.append((username, role, password))
        if role in ("manager", "expert"):  # the demo team (workers join the open project)
            session.flush()
            if session.get(ProjectMember, (project.id, account.id)) is None:
                session.add(ProjectMember(project_id=project.id, user_id=account.id, role=role))
    session.commit()
    return DemoSummary(project.id, n_items, n_gold, credentials)


def describe(summary: DemoSummary, login_url: str, start: str | None) -> str:
    """The text ``crowd demo`` prints: how to start, where to log in and with what.
    ``start`` is the command that serves at ``login_url`` (None: it is served now)."""
    lines = [
        f"demo project {summary.project_id}: {summary.items} reviews to label, "
        f"{summary.gold} gold items",
        *([f"start the server:  {start}"] if start else []),
        f"log in at {login_url} with one of these demo accounts:",
    ]
    lines += [f"  {role:8} {username:14} password: {password}"
              for username, role, password in summary.credentials]
    lines += WHAT_EACH_DOES
    lines.append("(`crowd demo` again prints new passwords; the old ones stop working)")
    lines.append("API: POST /api/v1/tokens with {\"username\", \"password\"} for a bearer token")
    return "\n".join(lines)
