"""The guidelines' Markdown: a safe subset, every tag of the input escaped."""
from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.domain.markdown import render, safe_url

ALLOWED = {"p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "code",
           "em", "strong", "a"}
VOID = {"br"}


class _Tags(HTMLParser):
    """Every tag and attribute of the output, and whether the nesting is balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.stack: list[str] = []
        self.balanced = True
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.balanced = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.balanced = False  # crowd never writes a comment

    def handle_decl(self, decl: str) -> None:
        self.balanced = False


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def _assert_safe(html: str) -> None:
    parsed = _parse(html)
    assert parsed.balanced and not parsed.stack, html
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED, (tag, html)
        if tag == "a":
            names = dict(attrs)
            assert set(names) == {"href", "rel"}, attrs
            assert names["href"].lower().startswith(("http://", "https://", "mailto:")), attrs
        else:
            assert attrs == [], (tag, attrs)


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '[x](javascript:alert(1))',
    '[x](JaVaScRiPt:alert(1))',
    '[x](data:text/html,<script>alert(1)</script>)',
    '[x](vbscript:msgbox)',
    '[x](https://ok.example/"onmouseover="alert(1))',
    '[x](https://ok.example/\'><script>alert(1)</script>)',
    "**<b>bold</b>**",
    "`<script>`",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "# <h1>x</h1>",
    "- <li onclick=x>",
    "&lt;script&gt; &amp; &#60;script&#62;",
    "<!-- comment --> <![CDATA[x]]> <!doctype html>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "[x](https://ok.example)<script>",
    "<style>body{display:none}</style>",
    "\x00<scr\x00ipt>",
    "*a **b* c**",
    "**a *b** c*",
]


def test_hostile_inputs_come_out_as_text() -> None:
    for source in HOSTILE:
        html = render(source)
        _assert_safe(html)
        assert "<script" not in html and "<img" not in html and "<style" not in html
        for scheme in ("javascript", "data", "vbscript"):
            assert f'<a href="{scheme}' not in html.lower(), html


def test_long_hostile_lines_render_without_backtracking_across_them() -> None:
    """Openings with no closing delimiter, the whole size of the guidelines: each is
    looked at only up to the next delimiter (a backtracking pattern took about a
    minute on the first of these)."""
    for source in ("(_a" * 33_000, "a **b" * 20_000, "(*a" * 33_000, "[x](" * 25_000):
        _assert_safe(render(source))


def test_no_link_but_http_https_and_mailto() -> None:
    assert safe_url("https://example.org/a?b=1") == "https://example.org/a?b=1"
    assert safe_url("mailto:team@example.org") == "mailto:team@example.org"
    for url in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "/local",
                "ftp://x", "mailto:", "https://x\ty", " javascript:x"):
        assert safe_url(url) is None, url
    assert "href" not in render("[x](javascript:alert(1))")
    assert 'href="https://a.example/?q=1&amp;r=&quot;2&quot;"' in render(
        '[x](https://a.example/?q=1&r="2")')


def test_the_subset_renders() -> None:
    html = render("# Title\n\nSome *em*, **strong**, `a<b`.\n\n- one\n- two\n\n1. first\n2. second"
                  "\n\n```\n<raw> & code\n```\n\nline one  \nline two")
    assert "<h1>Title</h1>" in html
    assert "<em>em</em>" in html and "<strong>strong</strong>" in html
    assert "<code>a&lt;b</code>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert "<pre><code>&lt;raw&gt; &amp; code</code></pre>" in html
    assert "line one<br>" in html
    assert render("snake_case_name") == "<p>snake_case_name</p>"
    assert render("") == ""


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list("<>&\"'`*_#-+[]()!:/=. \n1aZ") + [
    "javascript:", "https://", "mailto:", "<script>", "](", "```", "**", "\x00", "\u202e"]),
    max_size=120).map("".join))
def test_any_text_renders_to_allowed_markup_only(source: str) -> None:
    _assert_safe(render(source))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_renders_to_allowed_markup_only(source: str) -> None:
    html = render(source)
    _assert_safe(html)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_characters="<>&*_`#[]()-+\\!.\n\r\x00",
                                      exclude_categories=("Cs", "Cc")), max_size=80))
def test_plain_text_survives_as_itself(source: str) -> None:
    parsed = _parse(render(source))
    assert "".join(parsed.text).split() == source.split()
