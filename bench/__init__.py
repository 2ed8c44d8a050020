"""`make bench`: the exam-day hot paths measured over real HTTP against an in-run floor.

See docs/performance.md for what each scenario does and how the ratios are computed. The
package runs as `python -m bench`; bench.settings and bench.urls exist only for its server.
"""
