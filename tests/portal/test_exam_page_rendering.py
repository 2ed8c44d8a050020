"""The exam page's palette and questions, rendered in Python (portal/exams/rendering.py), are
byte for byte what the template's loops rendered before (grown since, as the renderer, with the
flag for review and, without going back, drafts and "Confirm and next"): the loops are kept here
and rendered beside the new code, in English and Persian, answered and not, flagged and not,
with and without going back, shuffled choices, and texts with newlines and HTML's special
characters. The candidate's page and the staff preview show them where the loops were (the
palette after the questions)."""

import pytest
from django.template import engines
from django.utils import translation

from portal.customers.models import ClientToken
from portal.exams import rendering, services
from portal.exams.models import Question, QuizQuestion
from scoring import exams as exam_scoring
from tests.factories import CALLBACK, make_exam, written_items

pytestmark = pytest.mark.django_db

# templates/exam/page.html's loops as they were (less a comment), the reference for the renderer.
# FINAL: an answer is final (its choices disabled, no flag or confirm) without going back, unless
# it is a draft (QuizQuestion.DRAFT).
OLD_LOOPS = (
    '{% localize off %}<nav class="palette" id="palette" aria-label="{% translate'
    " 'Questions' %}\" hidden>\n"
    "    <ol>\n"
    "      {% for item in items %}\n"
    '      <li><button type="button" data-goto="{{ forloop.counter0 }}" class="{% if'
    " item.answer %}answered{% if item.flagged %} {% endif %}{% endif %}{% if item.flagged %}"
    'flagged{% endif %}"\n'
    '                  data-label="{% blocktranslate with n=forloop.counter|digits %}Question'
    ' {{ n }}{% endblocktranslate %}"\n'
    '                  aria-label="{% blocktranslate with n=forloop.counter|digits %}Question'
    ' {{ n }}{% endblocktranslate %}">{{ forloop.counter|digits }}</button></li>\n'
    "      {% endfor %}\n"
    "    </ol>\n"
    "  </nav>\n"
    "\n"
    "  {% for item in items %}\n"
    '  <fieldset class="question" id="q-{{ item.question_id }}" data-question="{{'
    ' item.question_id }}" data-index="{{ forloop.counter0 }}" tabindex="-1"{% if item.answer %}'
    ' data-answered="true"{% endif %}{% if FINAL %} data-final="true"{% endif %}'
    '{% if item.flagged %} data-flagged="true"{% endif %}>\n'
    "    <legend>\n"
    '      <span class="qnum">{% blocktranslate with n=forloop.counter|digits'
    " total=total|digits %}Question {{ n }} of {{ total }}{% endblocktranslate %}</span>\n"
    '      <span class="qtext">{{ item.question.description|linebreaksbr }}</span>\n'
    "    </legend>\n"
    '    <p class="q-error" id="q-{{ item.question_id }}-error" role="alert" tabindex="-1" hidden>'
    "</p>\n"
    '    <div class="choices">\n'
    "      {% for number, text in item.shown_choices %}\n"
    '      <label class="choice">\n'
    '        <input type="radio" name="q{{ item.question_id }}" value="{{ number }}"{%'
    " if item.shown_answer == number %} checked{% endif %}{% if FINAL %} disabled{% endif %}>\n"
    "        <span>{{ text }}</span>\n"
    "      </label>\n"
    "      {% endfor %}\n"
    "    </div>{% if not FINAL %}\n"
    '    <div class="q-actions">\n'
    '      <button type="submit" name="flag" value="{{ item.question_id }}:{% if item.flagged %}0'
    '{% else %}1{% endif %}" class="flag" aria-pressed="{% if item.flagged %}true{% else %}false'
    "{% endif %}\">{% translate 'Flag for review' %}</button>{% if not exam.can_back %}\n"
    '      <button type="submit" name="confirm" value="{{ item.question_id }}" class="primary'
    " confirm\">{% translate 'Confirm and next' %}</button>{% endif %}\n"
    "    </div>{% endif %}\n"
    "  </fieldset>\n"
    "  {% endfor %}{% endlocalize %}"
)
OLD_LOOPS = OLD_LOOPS.replace(
    "not FINAL", "not item.answer or exam.can_back or item.done == 'draft'"
).replace("FINAL", "item.answer and not exam.can_back and item.done != 'draft'")

DESCRIPTION = "Line <b>1</b> & \"{n}\"\r\nsecond\rthird\n\nend 'q' {n} <script>x</script>"
CHOICES = ("a < b & c", "\"quoted\" 'single'", "plain", "> &amp; already")
ORDERS = ("1234", "3142", "4321", "2413", "1342", "4123")
MIXED = (None, 2, 4, None, 1, 3)
# Drafts and flags for the six items: a draft, a seed's in_progress and completed, flags on
# answered and unanswered items.
DONES = ("", "draft", "in_progress", "", "draft", "completed")
FLAGS = (True, True, False, False, True, False)


def old_loops(items, *, total: int, can_back: bool) -> str:
    template = engines["django"].from_string("{% load i18n l10n localize %}" + OLD_LOOPS)
    return template.render({"items": items, "total": total, "exam": {"can_back": can_back}})


def placed(old: str) -> tuple[str, str]:
    """Where the page shows the reference's two regions: the questions after the notes, then
    the navigation, then the palette (after the question in reading and tab order)."""
    palette, questions = old.split("</nav>\n\n  ", 1)
    return (
        f'</noscript>\n\n  {questions}\n\n  <div class="exam-nav" id="exam-nav" hidden>',
        f'</button>\n  </div>\n\n  {palette}</nav>\n  <div class="actions">',
    )


def new_regions(items, *, total: int, can_back: bool) -> str:
    regions = rendering.page_regions(items, total=total, can_back=can_back)
    return regions["palette"] + "\n\n  " + regions["questions"]


def reference_items(launch) -> list[QuizQuestion]:
    """The quiz's items as the template's loops read them: model instances."""
    return list(written_items(launch.quiz).select_related("question").order_by("position"))


def make_quiz(customer, *, language: str, can_back: bool, answers=MIXED, marked: bool = False):
    """A started launch of a six-question exam with tricky texts, fixed choice orders and the
    given answers (the bank's numbers), `marked` with DONES and FLAGS; returns the launch."""
    exam = make_exam(customer, questions=6, language=language, can_back=can_back)
    for n, question in enumerate(exam.questions.order_by("position")):
        question.description = DESCRIPTION.format(n=n)
        question.c1, question.c2, question.c3, question.c4 = CHOICES if n < 2 else CHOICES[::-1]
        question.save()
    token, _ = ClientToken.issue(customer=customer)
    launch, _ = services.launch_quiz(
        token=token, student_uuid=f"s-{exam.pk}", mobile="", eurl=exam.pk, callback_url=CALLBACK
    )
    for n, item in enumerate(written_items(launch.quiz).order_by("position")):
        QuizQuestion.objects.filter(pk=item.pk).update(choice_order=ORDERS[n], answer=answers[n])
        if marked:
            QuizQuestion.objects.filter(pk=item.pk).update(done=DONES[n], flagged=FLAGS[n])
    return launch


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("can_back", [True, False])
@pytest.mark.parametrize("answers", [MIXED, (None,) * 6, (1, 2, 3, 4, 1, 2)])
@pytest.mark.parametrize("marked", [False, True])
def test_the_regions_are_the_old_template_loops_byte_for_byte(
    customer, language, can_back, answers, marked
):
    launch = make_quiz(
        customer, language=language, can_back=can_back, answers=answers, marked=marked
    )
    with translation.override(language):
        old = old_loops(reference_items(launch), total=6, can_back=can_back)
        new = new_regions(rendering.page_items(launch.quiz), total=6, can_back=can_back)
    assert new == old
    assert new.count(" checked") == sum(answer is not None for answer in answers)
    if language == "fa":
        # Persian digits where the candidate reads a number, ASCII in the markup's own values.
        assert "سوال ۳ از ۶" in new and 'aria-label="سوال ۳">۳</button>' in new
        assert 'data-goto="2"' in new and 'data-index="2"' in new


def test_the_page_shows_the_regions_where_the_loops_were(client, customer):
    launch = make_quiz(customer, language="fa", can_back=False, marked=True)
    client.get(f"/exam/?launch={launch.launch_id}")
    client.post(f"/exam/{launch.launch_id}/start/")
    page = client.get(f"/exam/?launch={launch.launch_id}")
    with translation.override("fa"):
        old = old_loops(reference_items(launch), total=6, can_back=False)
    questions, palette = placed(old)
    assert questions in page.text and palette in page.text
    assert page.text.index(questions) < page.text.index(palette)


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_staff_preview_renders_the_same_regions(superuser_client, customer, language):
    exam = make_exam(customer, questions=6, can_back=False)
    exam.questions.filter(position__in=[1, 4]).update(
        can_shuffle=True, description=DESCRIPTION.format(n=1), c2=CHOICES[1]
    )
    seed = 12345
    # The preview's draw as it was made for the template: unsaved QuizQuestions.
    bank = {q.pk: q for q in Question.objects.live().filter(exam=exam).order_by("position", "id")}
    drawn = exam_scoring.draw_questions(seed, list(bank), exam.number_of_question)
    items = [
        QuizQuestion(
            question=bank[qid],
            position=position,
            choice_order="".join(
                str(n) for n in exam_scoring.choice_order(seed, qid, bank[qid].can_shuffle)
            ),
        )
        for position, qid in enumerate(drawn, start=1)
    ]
    with translation.override(language):
        old = old_loops(items, total=6, can_back=False)
    page = superuser_client.get(f"/staff/exams/{exam.pk}/preview/?language={language}&seed={seed}")
    assert page.status_code == 200
    questions, palette = placed(old)
    assert questions in page.text and palette in page.text
    assert "&lt;b&gt;1&lt;/b&gt; &amp; &quot;1&quot;<br>second<br>third<br><br>end" in page.text


def test_a_translation_that_does_not_format_falls_back_to_the_msgid(monkeypatch, customer):
    launch = make_quiz(customer, language="en", can_back=True)

    def broken(msgid: str) -> str:
        return "Frage %(nummer)s" if msgid.startswith("Question %") else msgid

    monkeypatch.setattr(rendering, "gettext", broken)
    html = new_regions(rendering.page_items(launch.quiz), total=6, can_back=True)
    assert 'data-label="Question 2"' in html and "Question 2 of 6" in html
    assert "Frage" not in html
