"""A safe subset of Markdown for project guidelines (pure).

All text is HTML-escaped first, so no tag, attribute or entity of the input ever
reaches the page as markup: what comes out is only the markup made here.

Supported: ``#`` to ``######`` headings; paragraphs (a blank line between); a line
ending in two spaces breaks; ``-``, ``*`` or ``+`` bullet lists and ``1.`` numbered
lists (one level); fenced code blocks (a line of three backticks, closed by
another); inline ``code``; ``**strong**`` / ``__strong__``, ``*em*`` / ``_em_``;
links ``[text](url)`` whose url is ``http:``, ``https:`` or ``mailto:`` (any other
is left as plain text). Everything else is shown as the text it is.
"""
from __future__ import annotations

import re
from html import escape

SCHEMES = ("http://", "https://", "mailto:")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^\s{0,3}```")
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\s]+)\)")
# Emphasis never spans its own delimiter, so each opening is looked at only up to the
# next one: linear in the line, whatever it holds (no backtracking across the line).
_STRONG = re.compile(r"\*\*(?=[^*\s])([^*\n]+?)(?<=\S)\*\*|__(?=[^_\s])([^_\n]+?)(?<=\S)__")
_EM = re.compile(r"(?<![\w*])([*_])(?=[^*_\s])([^*_\n]+?)(?<=\S)\1(?![\w*])")
_SLOT = "\x00{}\x00"  # placeholders for finished pieces; NUL never survives clean text
_SLOTS = re.compile("\x00(\\d+)\x00")


def render(source: str) -> str:
    """``source`` (Markdown) as safe HTML."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def close_paragraph() -> None:
        if paragraph:
            out.append("<p>" + _breaks(paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{i}</li>" for i in items)
                       + f"</{list_tag}>")
            items.clear()
        list_tag = ""

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if _FENCE.match(line):
            close_paragraph()
            close_list()
            code: list[str] = []
            while index < len(lines) and not _FENCE.match(lines[index]):
                code.append(lines[index])
                index += 1
            index += 1  # the closing fence (or the end)
            out.append("<pre><code>" + escape("\n".join(code)) + "</code></pre>")
            continue
        if not line.strip():
            close_paragraph()
            close_list()
            continue
        heading = _HEADING.match(line)
        if heading:
            close_paragraph()
            close_list()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            close_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                list_tag = tag
            items.append(inline((bullet or numbered).group(1)))  # type: ignore[union-attr]
            continue
        if items:  # a lazy continuation line of the last item
            items[-1] += " " + inline(line.strip())
            continue
        paragraph.append(line)
    close_paragraph()
    close_list()
    return "\n".join(out)


def _breaks(lines: list[str]) -> str:
    parts = []
    for number, line in enumerate(lines):
        text = inline(line.strip())
        hard = line.endswith("  ") and number < len(lines) - 1
        parts.append(text + ("<br>" if hard else ""))
    return "\n".join(parts)


def safe_url(url: str) -> str | None:
    """``url`` if its scheme is one a guideline may link to, else None."""
    lowered = url.strip().lower()
    if any(ord(ch) < 0x21 for ch in url):
        return None
    return url if lowered.startswith(SCHEMES) and len(lowered) > len("mailto:") else None


def inline(text: str) -> str:
    """One line of text with code spans, links and emphasis, escaped."""
    slots: list[str] = []
    text = text.replace("\x00", "")

    def keep(html: str) -> str:
        slots.append(html)
        return _SLOT.format(len(slots) - 1)

    text = _CODE.sub(lambda m: keep("<code>" + escape(m.group(1)) + "</code>"), text)

    def link(match: re.Match[str]) -> str:
        url = safe_url(match.group(2))
        if url is None:
            return match.group(0)
        label = _emphasis(escape(match.group(1), quote=False))
        return keep(f'<a href="{escape(url)}" rel="nofollow noopener noreferrer">{label}</a>')

    text = _LINK.sub(link, text)
    html = _emphasis(escape(text, quote=False))
    while _SLOTS.search(html):  # a link's label may hold a code span
        html = _SLOTS.sub(lambda m: slots[int(m.group(1))], html)
    return html


def _emphasis(html: str) -> str:
    def strong(match: re.Match[str]) -> str:
        return f"<strong>{match.group(1) or match.group(2)}</strong>"

    def em(match: re.Match[str]) -> str:
        inner = match.group(2)
        if inner.count("<strong>") != inner.count("</strong>"):
            return match.group(0)  # would cross a <strong>: left as it is
        return f"<em>{inner}</em>"

    # Strong, then emphasis, then strong again: "*a **b** c*" and "**a *b* c**" both nest.
    return _STRONG.sub(strong, _EM.sub(em, _STRONG.sub(strong, html)))
