"""Reporting: paired fidelity studies of the papers' claims (`solo-ext fidelity`) and their report.

``fidelity`` defines the study (pairs, budgets, sweeps as data) and runs it; ``evaluation``
evaluates one checkpoint offline (needs solo-learn); ``paired`` holds the statistics and the
JSON/Markdown/PNG writers.
"""
