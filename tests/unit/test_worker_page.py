"""The worker page's pure helpers: laying out an item, image origins, the words shown."""
from __future__ import annotations

import pytest

from crowd.domain.worker_page import (
    LEFT_CAP,
    layout,
    lease_words,
    left_words,
    origin_of,
    parse_origins,
    round_counter,
)

PNG = "data:image/png;base64,iVBORw0KGgo="


def _kinds(data: object, origins: tuple[str, ...] = ()) -> list[tuple[str, list[str]]]:
    return [(block.kind, [f.name for f in block.fields]) for block in layout(data, origins)]


def test_short_fields_share_one_table_and_the_others_stand_alone() -> None:
    data = {"title": "a cat", "n": 3, "photo": PNG, "body": "x" * 400, "tags": ["a"],
            "flag": True, "link": "https://img.example.com/cat.png"}
    assert _kinds(data) == [
        ("table", ["title", "n"]), ("image", ["photo"]), ("long_text", ["body"]),
        ("table", ["tags", "flag"]), ("image_link", ["link"]),
    ]


def test_a_remote_image_is_shown_only_from_a_listed_origin() -> None:
    url = "https://IMG.example.com:8443/a/cat.JPG?size=2"
    assert _kinds({"u": url}) == [("image_link", ["u"])]
    assert _kinds({"u": url}, ("https://img.example.com:8443",)) == [("image", ["u"])]
    assert _kinds({"u": url}, ("https://img.example.com",)) == [("image_link", ["u"])]
    assert _kinds({"u": "http://img.example.com:8443/cat.jpg"},
                  ("https://img.example.com:8443",)) == [("image_link", ["u"])]


@pytest.mark.parametrize("value", [
    "javascript:alert(1)//.png", "data:text/html;base64,PHNjcmlwdD4=", "https://x/cat.png y",
    "ftp://x.example/cat.png", "https:///cat.png", "data:image/png;base64,<script>",
])
def test_what_is_not_an_image_is_text(value: str) -> None:
    assert _kinds({"v": value}, ("https://x",)) == [("table", ["v"])]


def test_data_that_is_not_an_object_is_one_value() -> None:
    assert _kinds([1, 2]) == [("table", ["data"])]
    assert layout("<b>")[0].fields[0].text == '"<b>"'


def test_many_lines_make_long_text_even_when_short() -> None:
    assert _kinds({"poem": "a\nb\nc\nd\ne"}) == [("long_text", ["poem"])]


def test_origins_parse_and_refuse_what_is_not_an_origin() -> None:
    assert parse_origins(" https://A.example.com, http://b.example:8080/ https://a.example.com") \
        == ("https://a.example.com", "http://b.example:8080")
    assert parse_origins("") == ()
    for bad in ("https://*.example.com", "https://a.example.com/path", "ftp://a.example",
                "a.example.com", "https://-a.example", "https://a..example",
                "https://a.example.com:99999999"):
        with pytest.raises(ValueError, match="CROWD_IMAGE_SOURCES"):
            parse_origins(bad)


def test_origin_of_an_url() -> None:
    assert origin_of("https://User@Img.Example.com/x.png") == "https://img.example.com"
    assert origin_of("http://a.example:81/x.png") == "http://a.example:81"
    assert origin_of("https://a.example:bad/x.png") is None
    assert origin_of("data:image/png;base64,AA") is None


def test_the_round_counter_says_when_a_pass_can_come_and_when_the_round_ends() -> None:
    assert round_counter(0, 4) == "answer 1 · a pass takes at least 4 answers, the round ends by 12"
    assert round_counter(5, 10).startswith("answer 6 ·")


def test_items_left_is_a_bound_up_to_the_cap() -> None:
    assert left_words(LEFT_CAP) == f"{LEFT_CAP} or more items left for you"
    assert left_words(1) == "up to 1 more item for you"
    assert left_words(7) == "up to 7 more items for you"
    assert left_words(0) == "this may be the last item for you"


def test_the_lease_in_words() -> None:
    assert lease_words(600) == "10 minutes"
    assert lease_words(119.9) == "1 minute 59 seconds"
    assert lease_words(60) == "1 minute"
    assert lease_words(1) == "1 second"
    assert lease_words(-3) == "0 seconds"
