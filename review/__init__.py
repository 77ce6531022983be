"""winnow's headless core: project store, importers, decisions, analysis and export.

Never imports textual or rich, and never loads torch or sentence-transformers at import time.
"""

__version__ = "0.1.0"
