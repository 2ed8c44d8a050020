"""`manage.py export_exam EURL`: write an exam and its question bank as portal-exam/1 JSON."""

from portal.documents import ExportCommand
from portal.exams.models import Exam
from portal.exams.transfer import export_exam


class Command(ExportCommand):
    help = "Write an exam and its whole question bank as portal-exam/1 JSON (stdout by default)."
    key, key_type, key_help = "eurl", int, "The exam's id."
    model, lookup, exporter = Exam, "pk", export_exam
    not_found = "No exam with eurl {key}."
    what = "exam {record.pk} ({record.title})"
