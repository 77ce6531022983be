"""winnow's terminal interface (Textual). Asks `review/` for everything; holds no state at import."""
