"""What a page's HTML must hold, read with the standard library's html.parser: a CSRF
token in every POST form, a label for every field, and nothing inline that the CSP
would block (script without src, ``style=`` or ``<style>``, ``on*=`` handlers)."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
FIELDS = {"input", "select", "textarea"}


@dataclass
class Field:
    tag: str
    name: str
    id: str
    line: int
    in_label: bool
    aria_label: str
    labelledby: str

    def describe(self) -> str:
        return f"<{self.tag} name={self.name!r} id={self.id!r}> (line {self.line})"


@dataclass
class Form:
    method: str
    action: str
    line: int
    has_csrf: bool = False


@dataclass
class Audit(HTMLParser):
    problems: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    label_for: dict[str, int] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)
    label_depth: int = 0
    open_forms: list[Form] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        line = self.getpos()[0]
        for name in values:
            if name.startswith("on"):
                self.problems.append(f"inline handler {name}= on <{tag}> (line {line})")
            if name == "style":
                self.problems.append(f"style= attribute on <{tag}> (line {line})")
        if tag == "style":
            self.problems.append(f"<style> element (line {line})")
        if tag == "script" and not values.get("src"):
            self.problems.append(f"inline <script> without src (line {line})")
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "label":
            self.label_depth += 1
            if values.get("for"):
                self.label_for[values["for"]] = line
        elif tag == "form":
            self.open_forms.append(Form((values.get("method") or "get").lower(),
                                        values.get("action", ""), line))
        elif tag in FIELDS:
            self._field(tag, values, line)

    def _field(self, tag: str, values: dict[str, str], line: int) -> None:
        if tag == "input" and values.get("name") == "csrf_token" and self.open_forms:
            self.open_forms[-1].has_csrf = True
        if tag == "input" and (values.get("type") or "text").lower() in UNLABELLED_TYPES:
            return
        self.fields.append(Field(tag, values.get("name", ""), values.get("id", ""), line,
                                 self.label_depth > 0, values.get("aria-label", "").strip(),
                                 values.get("aria-labelledby", "").strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)
        elif tag == "form" and self.open_forms:
            self.forms.append(self.open_forms.pop())

    def findings(self) -> list[str]:
        """Every problem of the page, one line each (empty: the page passes)."""
        found = list(self.problems)
        for form in self.forms + self.open_forms:
            if form.method == "post" and not form.has_csrf:
                found.append(f"POST form to {form.action!r} (line {form.line}) has no "
                             "csrf_token input")
        for item in self.fields:
            labelled = item.in_label or (item.id and item.id in self.label_for) or item.aria_label
            if not labelled and item.labelledby:
                labelled = all(ref in self.ids for ref in item.labelledby.split())
            if not labelled:
                found.append(f"{item.describe()} has no label (label for=, a wrapping label, "
                             "aria-label or aria-labelledby)")
        for target, line in self.label_for.items():
            if target not in self.ids:
                found.append(f"<label for={target!r}> (line {line}) names no element")
        return found


def audit(html: str) -> list[str]:
    """The findings of ``html``."""
    parser = Audit()
    parser.feed(html)
    parser.close()
    return parser.findings()
