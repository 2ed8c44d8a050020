"""The per-question markup of the candidate's exam page (templates/exam/page.html), in Python.

Why not the template: at 200 questions the template's loops were ~90 % of the page's time (a
palette button and a fieldset of four choices per question: a blocktranslate, ~36 variable
lookups and three gettext calls each, 600 per page), and the page took ~90 ms where 10 questions
took ~14 ms (measured in-process; issue 10 wants 200 within 2x of 10). Here the translated
strings are fetched once per page and each question is a few string formats.

The markup of the question palette and of the question fieldsets lives HERE now; the template
keeps everything else and inserts the two regions. The output is byte-for-byte what the
template's loops rendered (tests/portal/test_exam_page_rendering.py keeps those loops and
compares, in English and Persian): every candidate-visible text is escaped as the template's
autoescape did (django.utils.html.escape; a description as |linebreaksbr), the msgids are the
template's (so locale/*/django.po applies unchanged), and numbers are not localised.
"""

import html
from collections.abc import Sequence
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop

from portal.exams.models import QuizQuestion

# django.utils.html.escape is SafeString(html.escape(str(text))) behind a lazy-string check; for
# the ~1,000 texts of a 200-question page (all str already) the wrapper alone cost more than the
# escaping, so they go straight to html.escape: the same characters, the same entities.
_escape = html.escape


class PageItem(NamedTuple):
    """What the page shows of a quiz item: its question as drawn, in the quiz's choice order."""

    question_id: int
    answer: int | None  # the bank's choice number
    choice_order: str  # the bank's choice numbers in the order shown: "3142"
    description: str
    c1: str
    c2: str
    c3: str
    c4: str


_ITEM_FIELDS = (
    "question_id",
    "answer",
    "choice_order",
    *(f"question__{name}" for name in ("description", "c1", "c2", "c3", "c4")),
)


def page_items(quiz_id: int) -> list[PageItem]:
    """The quiz's items in order, as the page reads them: one query, and tuples, not instances
    (services.quiz_items' full items cost a 200-question page ~1.5 ms more)."""
    rows = QuizQuestion.objects.filter(quiz_id=quiz_id).values_list(*_ITEM_FIELDS)
    return list(map(PageItem._make, rows))


def _translated(msgid: str, **sample: object) -> str:
    """The msgid in the active language, escaped, ready for %-formatting with `sample`'s keys.

    A translation that does not format falls back to the msgid, as {% blocktranslate %} does.
    """
    text = gettext(msgid)
    try:
        text % sample
    except (KeyError, ValueError, TypeError):
        text = msgid
    return escape(text)


def _description(text: str) -> str:
    """{{ description|linebreaksbr }}: newlines of any kind (CRLF, CR, LF, as normalize_newlines
    reads them) become <br>, the rest is escaped."""
    return _escape(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\n", "<br>")


def palette(items: Sequence[PageItem]) -> SafeString:
    """The question palette (<nav id="palette">): one button per question, answered marked."""
    label = _translated(gettext_noop("Question %(n)s"), n=1)
    parts = [
        f'<nav class="palette" id="palette" aria-label="{escape(gettext("Questions"))}" hidden>'
        "\n    <ol>\n      "
    ]
    for index, item in enumerate(items):
        n = index + 1
        text = label % {"n": n}
        answered = "answered" if item.answer else ""
        parts.append(
            f'\n      <li><button type="button" data-goto="{index}" class="{answered}"'
            f'\n                  data-label="{text}"'
            f'\n                  aria-label="{text}">{n}</button></li>\n      '
        )
    parts.append("\n    </ol>\n  </nav>")
    return SafeString("".join(parts))


def questions(items: Sequence[PageItem], *, total: int, can_back: bool) -> SafeString:
    """The questions: a fieldset each, its choices in the quiz's order, the answer checked, and
    an answered question's choices disabled when the exam does not allow going back."""
    number = _translated(gettext_noop("Question %(n)s of %(total)s"), n=1, total=1)
    parts = []
    for index, item in enumerate(items):
        qid = item.question_id
        texts = {"1": item.c1, "2": item.c2, "3": item.c3, "4": item.c4}
        answer = item.answer
        answered = ' data-answered="true"' if answer else ""
        disabled = " disabled" if answer and not can_back else ""
        # The answer in the candidate's numbering (QuizQuestion.shown_answer): where it stands.
        checked_at = item.choice_order.find(str(answer)) + 1 if answer is not None else 0
        parts.append(
            f'\n  <fieldset class="question" id="q-{qid}" data-question="{qid}"'
            f' data-index="{index}"{answered}>'
            "\n    <legend>"
            f'\n      <span class="qnum">{number % {"n": index + 1, "total": total}}</span>'
            f'\n      <span class="qtext">{_description(item.description)}</span>'
            '\n    </legend>\n    <div class="choices">\n      '
        )
        for shown, original in enumerate(item.choice_order, start=1):
            checked = " checked" if shown == checked_at else ""
            parts.append(
                '\n      <label class="choice">'
                f'\n        <input type="radio" name="q{qid}" value="{shown}"{checked}{disabled}>'
                f"\n        <span>{_escape(texts[original])}</span>"
                "\n      </label>\n      "
            )
        parts.append(
            '\n    </div>\n    <p class="q-error" role="alert" hidden></p>\n  </fieldset>\n  '
        )
    return SafeString("".join(parts))


def page_regions(items: Sequence[PageItem], *, total: int, can_back: bool) -> dict[str, str]:
    """The template's `palette` and `questions`, in the active language."""
    return {
        "palette": palette(items),
        "questions": questions(items, total=total, can_back=can_back),
    }
