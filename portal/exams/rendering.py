"""The per-question markup of the candidate's exam page (templates/exam/page.html), in Python.

Why not the template: at 200 questions the template's loops were ~90 % of the page's time (a
palette button and a fieldset of four choices per question: a blocktranslate, ~36 variable
lookups and three gettext calls each, 600 per page), and the page took ~90 ms where 10 questions
took ~14 ms (measured in-process; issue 10 wants 200 within 2x of 10). Here the translated
strings are fetched once per page and each question is a few string formats.

The markup of the question palette and of the question fieldsets lives HERE now; the template
keeps everything else and inserts the two regions. The output is byte-for-byte what the
template's loops rendered, grown since with the flag and confirm buttons
(tests/portal/test_exam_page_rendering.py keeps those loops, grown alike, and compares, in
English and Persian): every candidate-visible text is escaped as the template's
autoescape did (django.utils.html.escape; a description as |linebreaksbr), the msgids are the
template's (so locale/*/django.po applies unchanged), and the numbers a candidate reads are
written as the template's |digits filter writes them (portal/localize.py: Persian digits on a
Persian page).
"""

import html
from collections.abc import Sequence
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop

from portal import localize
from portal.exams.models import Quiz, QuizQuestion

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
    done: str = ""  # QuizQuestion.DRAFT: chosen, not confirmed
    flagged: bool = False

    @property
    def is_committed(self) -> bool:
        """QuizQuestion.is_committed, on the tuple (a NamedTuple cannot borrow the property)."""
        return self.answer is not None and self.done != QuizQuestion.DRAFT

    def is_final(self, *, can_back: bool) -> bool:
        """Answered for good: in an exam without going back, an answer but a draft."""
        return not can_back and self.is_committed

    def is_open(self, *, can_back: bool) -> bool:
        """Still to be answered, the question a candidate resumes at: unanswered (with going
        back) or not final (without: a draft is chosen, not confirmed)."""
        return self.answer is None if can_back else not self.is_final(can_back=False)


# The question's texts a PageItem holds, in its order.
_TEXTS = ("description", "c1", "c2", "c3", "c4")
_ITEM_FIELDS = (
    "question_id",
    "answer",
    "choice_order",
    *(f"question__{name}" for name in _TEXTS),
    "done",
    "flagged",
)


def page_items(quiz: Quiz) -> list[PageItem]:
    """The quiz's items in order, as the page reads them: one query, and tuples, not instances
    (services.quiz_items' full items cost a 200-question page ~1.5 ms more). Items still
    pending (Quiz.pending_items) are read from their questions, unanswered, as they will be
    written: a second query."""
    rows = QuizQuestion.objects.filter(quiz_id=quiz.pk).values_list(*_ITEM_FIELDS)
    items = list(map(PageItem._make, rows))
    # The rows first: the quiz may have been read before its first save wrote them.
    if items or not quiz.pending_items:
        return items
    return [
        PageItem(pk, None, order, *question)
        for pk, order, *question in quiz.pending_questions(_TEXTS)
    ]


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
    """The question palette (<nav id="palette">): one button per question, answered and flagged
    marked (the page's script adds them to each button's name)."""
    label = _translated(gettext_noop("Question %(n)s"), n=1)
    shown = localize.digits_function()
    parts = [
        f'<nav class="palette" id="palette" aria-label="{escape(gettext("Questions"))}" hidden>'
        "\n    <ol>\n      "
    ]
    for index, item in enumerate(items):
        n = shown(index + 1)
        text = label % {"n": n}
        state = ("answered " if item.answer else "") + ("flagged" if item.flagged else "")
        parts.append(
            f'\n      <li><button type="button" data-goto="{index}" class="{state.strip()}"'
            f'\n                  data-label="{text}"'
            f'\n                  aria-label="{text}">{n}</button></li>\n      '
        )
    parts.append("\n    </ol>\n  </nav>")
    return SafeString("".join(parts))


def questions(
    items: Sequence[PageItem], *, total: int, can_back: bool, refused: tuple[int, str] | None = None
) -> SafeString:
    """The questions: a fieldset each, its choices in the quiz's order, the answer checked, its
    "flag for review" toggle; and, when the exam does not allow going back, a final answer's
    choices disabled, or else the "Confirm and next" that makes the chosen one final.
    `refused` (question id, message): a post of the form refused for that question (without
    JavaScript) says why under its legend, focused on load and tied to its group, as the page's
    script does.

    The toggles and Confirm are the form's submit buttons (services.flag_question and the
    confirm of views.save without JavaScript; the page's script posts them itself)."""
    number = _translated(gettext_noop("Question %(n)s of %(total)s"), n=1, total=1)
    digits = localize.digits_function()
    of_total = {"total": digits(total)}
    flag = escape(gettext("Flag for review"))
    confirm = escape(gettext("Confirm and next"))
    parts = []
    for index, item in enumerate(items):
        qid = item.question_id
        texts = {"1": item.c1, "2": item.c2, "3": item.c3, "4": item.c4}
        answer = item.answer
        final = item.is_final(can_back=can_back)
        answered = ' data-answered="true"' if answer else ""
        state = answered + (' data-final="true"' if final else "")
        state += ' data-flagged="true"' if item.flagged else ""
        disabled = " disabled" if final else ""
        # The answer in the candidate's numbering (QuizQuestion.shown_answer): where it stands.
        checked_at = item.choice_order.find(str(answer)) + 1 if answer is not None else 0
        message, invalid = "", ""
        if refused is not None and refused[0] == qid:
            state += f' aria-describedby="q-{qid}-error"'
            message, invalid = _escape(refused[1]), ' aria-invalid="true"'
        error = (
            f'<p class="q-error" id="q-{qid}-error" role="alert" tabindex="-1" autofocus>{message}'
            if message
            else f'<p class="q-error" id="q-{qid}-error" role="alert" tabindex="-1" hidden>'
        )
        parts.append(
            f'\n  <fieldset class="question" id="q-{qid}" data-question="{qid}"'
            f' data-index="{index}" tabindex="-1"{state}>'
            "\n    <legend>"
            f'\n      <span class="qnum">{number % {"n": digits(index + 1), **of_total}}</span>'
            f'\n      <span class="qtext">{_description(item.description)}</span>'
            "\n    </legend>"
            f"\n    {error}</p>"
            '\n    <div class="choices">\n      '
        )
        for shown, original in enumerate(item.choice_order, start=1):
            checked = " checked" if shown == checked_at else ""
            parts.append(
                '\n      <label class="choice">'
                f'\n        <input type="radio" name="q{qid}" value="{shown}"'
                f"{checked}{disabled}{invalid}>"
                f"\n        <span>{_escape(texts[original])}</span>"
                "\n      </label>\n      "
            )
        parts.append("\n    </div>")
        if not final:
            pressed = "true" if item.flagged else "false"
            parts.append(
                '\n    <div class="q-actions">'
                f'\n      <button type="submit" name="flag" value="{qid}:{int(not item.flagged)}"'
                f' class="flag" aria-pressed="{pressed}">{flag}</button>'
            )
            if not can_back:
                parts.append(
                    f'\n      <button type="submit" name="confirm" value="{qid}"'
                    f' class="primary confirm">{confirm}</button>'
                )
            parts.append("\n    </div>")
        parts.append("\n  </fieldset>\n  ")
    return SafeString("".join(parts))


def current_item(items: Sequence[PageItem], *, can_back: bool) -> PageItem | None:
    """The question the candidate goes on with: the first still open one (as the page's script
    opens it), else the first."""
    current = next((item for item in items if item.is_open(can_back=can_back)), None)
    return current or (items[0] if items else None)


def page_regions(
    items: Sequence[PageItem],
    *,
    total: int,
    can_back: bool,
    at: int = 0,
    refused: tuple[int, str] | None = None,
) -> dict[str, object]:
    """The template's `palette` and `questions`, in the active language, and the question the
    candidate is on (`current_question`, its id: the skip link's target; `current_number`, its
    number on the page: the page's title): the question `at` (an id) when the page has it,
    else the first still open one (as the page's script opens it). `refused`: see questions()."""
    current = next((item for item in items if item.question_id == at), None) if at else None
    current = current or current_item(items, can_back=can_back)
    return {
        "palette": palette(items),
        "questions": questions(items, total=total, can_back=can_back, refused=refused),
        "current_question": current.question_id if current else None,
        "current_number": items.index(current) + 1 if current else None,
    }
