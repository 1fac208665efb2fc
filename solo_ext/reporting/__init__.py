"""Reporting: results tables and paper tables (`solo-ext table`), and the paired fidelity study of the
papers' claims (`solo-ext fidelity`).

``tables`` gathers results files into mean +- std tables; ``paper_tables`` holds the papers' tables to match
them against; ``fidelity`` defines and runs the study (pairs, budgets, sweeps as data); ``evaluation``
evaluates one checkpoint offline; ``paired`` holds the statistics and the JSON/Markdown/PNG writers.
"""
