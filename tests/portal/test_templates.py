"""What the template language would print by mistake: a `{# … #}` comment is one line only in
Django, and one spread over two printed itself, as text, at the top of every page."""

from pathlib import Path

from django.conf import settings
from django.template import engines
from django.template.base import Lexer, TokenType

BASE = Path(settings.BASE_DIR)


def template_files() -> list[Path]:
    """The project's templates, its apps' included (not the installed packages')."""
    dirs = [Path(d) for d in engines["django"].template_dirs]
    ours = [d for d in dirs if d.is_relative_to(BASE) and "site-packages" not in d.parts]
    return sorted(p for root in ours for p in root.rglob("*.html"))


def test_no_template_prints_a_comment_as_text():
    printed = [
        f"{path}:{token.lineno}"
        for path in template_files()
        for token in Lexer(path.read_text()).tokenize()
        if token.token_type is TokenType.TEXT and "{#" in token.contents
    ]
    assert template_files() and printed == []


def test_the_pages_head_holds_no_text(client, db):
    html = client.get("/assessment/").content.decode()
    head = html.split("<head>", 1)[1].split("</head>", 1)[0]
    assert "{#" not in html and "#}" not in head
