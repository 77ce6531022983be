"""The real-data quality benchmark (issue #14): datasets, flags, labels and the precision/recall table.

    datasets.py   which ../shared/datasets files are read, in which language, and how each is imported
    flags.py      import a dataset into a fresh project, run the detectors, collect every flag
    labels.py     the label files of tests/fixtures/quality/ (validated line by line) and the scoring

The command line is benchmarks/bench_quality.py.
"""
