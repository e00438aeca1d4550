"""Which pages ``benchmarks/pages.py`` measures, and the browsers that ask for them.

Pages are found in the app itself: every GET rule of the ``ui`` blueprint, its
arguments filled from the world by name. From each page's HTML come its keyed
variants: each kind of link back to the same page with a query (a next page, a
sort) and each GET form's filters (a select's first other option, a search box
given an item's external id), so a page's pagination, sorts and filters are
measured without the benchmark knowing their names.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit

import requests
from flask import Flask
from werkzeug.routing import Rule

from benchmarks._load_support import PASSWORD

NOT_PAGES = ("download",)  # endpoints with these words send files, not pages
MAX_VARIANTS = 8  # keyed variants per page
NEXT_WORDS = ("next", "older", "more", "»", "→")


@dataclass(frozen=True)
class Target:
    """One URL measured for one visitor."""

    rule: str  # the URL rule, with the variant's query
    url: str  # the path and query requested
    visitor: str


@dataclass
class Discovered:
    targets: list[Target] = field(default_factory=list)
    unfilled: list[str] = field(default_factory=list)  # rules with an argument not known
    skipped: list[str] = field(default_factory=list)  # downloads
    refused: dict[str, dict[str, int]] = field(default_factory=dict)  # no visitor got 200


def page_rules(app: Flask) -> list[Rule]:
    """Every GET rule of the browser pages, in URL order."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("ui.") and "GET" in (rule.methods or ())),
                  key=lambda rule: rule.rule)


def fill_rule(app: Flask, rule: Rule, params: dict[str, Any]) -> str | None:
    """The path of ``rule`` with its arguments from ``params``; None if one is unknown."""
    if any(name not in params for name in rule.arguments):
        return None
    values = {name: params[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method="GET")


class PageParser(HTMLParser):
    """The links (href, text, rel) and the forms (method, action, fields) of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str]] = []
        self.forms: list[dict[str, Any]] = []
        self._link: dict[str, str] | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "a" and attr.get("href"):
            self._link = {"href": attr["href"], "rel": attr.get("rel", ""),
                          "text": attr.get("aria-label", "")}
            self.links.append(self._link)
        elif tag == "form":
            self.forms.append({"method": attr.get("method", "get").lower(),
                               "action": attr.get("action", ""), "fields": []})
        elif self.forms and tag in ("input", "select", "textarea"):
            item = {"tag": tag, "type": attr.get("type", "text").lower(),
                    "name": attr.get("name", ""), "value": attr.get("value", ""), "options": []}
            self.forms[-1]["fields"].append(item)
            if tag == "select":
                self._select = item
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attr.get("value", ""))
            if "selected" in attr or len(self._select["options"]) == 1:
                self._select["value"] = attr.get("value", "")  # the option shown

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._link = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link["text"] += data


def csrf_token(html: str) -> str:
    """The CSRF token of the first form that has one ('' if none)."""
    parser = PageParser()
    parser.feed(html)
    for form in parser.forms:
        for item in form["fields"]:
            if item["name"] == "csrf_token":
                return str(item["value"])
    return ""


def _query_keys(url: str) -> tuple[str, ...]:
    return tuple(sorted({key for key, _ in parse_qsl(urlsplit(url).query)}))


def variants(path: str, html: str, search: str) -> list[str]:
    """Same-page URLs with a query found in ``html``: one per set of query keys among
    the links (a next-page link first), then per GET form one per select (its first
    option other than the one shown) and one per search box (``search``)."""
    parser = PageParser()
    parser.feed(html)
    found: dict[tuple[str, ...], str] = {}
    links = [link for link in parser.links
             if urlsplit(urljoin(path, link["href"])).path == path
             and urlsplit(urljoin(path, link["href"])).query]
    links.sort(key=lambda link: not any(word in (link["rel"] + link["text"]).lower()
                                        for word in NEXT_WORDS))
    for link in links:
        url = urldefrag(urljoin(path, link["href"])).url
        found.setdefault(_query_keys(url), url)
    for form in parser.forms:
        if form["method"] != "get" or urlsplit(urljoin(path, form["action"])).path != path:
            continue
        fixed = [(f["name"], f["value"]) for f in form["fields"]
                 if f["name"] and f["type"] == "hidden" and f["name"] != "csrf_token"]
        for item in form["fields"]:
            if not item["name"]:
                continue
            if item["tag"] == "select":
                others = [o for o in item["options"] if o and o != item["value"]]
                value = others[0] if others else None
            elif item["type"] in ("text", "search"):
                value = search
            else:
                value = None
            url = f"{path}?{urlencode([*fixed, (item['name'], value)])}"
            if value is not None and url not in found.values():
                found.setdefault(_query_keys(url) + (f"={value}",), url)
    return list(itertools.islice(found.values(), MAX_VARIANTS))


class Visitor:
    """A browser: one kept-alive connection, its cookies, and who it logged in as."""

    def __init__(self, base_url: str, name: str) -> None:
        self.base_url, self.name = base_url, name
        self.http = requests.Session()

    def log_in(self, username: str) -> None:
        """Log in through the login form, with its CSRF token, as a person would."""
        page = self._loopback(self.http.get(self.base_url + "/login", timeout=60))
        answer = self._loopback(self.http.post(
            self.base_url + "/login", timeout=60, allow_redirects=False,
            data={"username": username, "password": PASSWORD,
                  "csrf_token": csrf_token(page.text)}))
        if answer.status_code != 302:
            raise RuntimeError(f"logging in as {username}: {answer.status_code}")

    def get(self, url: str, request_id: str) -> requests.Response:
        return self._loopback(self.http.get(self.base_url + url, allow_redirects=False,
                                            headers={"X-Request-Id": request_id}, timeout=900))

    def _loopback(self, answer: requests.Response) -> requests.Response:
        """Clear the Secure flag of the production config's cookies, which requests
        would otherwise not send over plain HTTP (127.0.0.1 stands in for the TLS
        proxy in front of gunicorn)."""
        for cookie in self.http.cookies:
            cookie.secure = False
        return answer
