"""Exams (seed 001, "Kebrit"): question banks, students, quizzes, launches and answers."""
