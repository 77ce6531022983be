"""Reusable widgets of the review screens."""
