"""The template's Jinja extensions and the logic they call: loader.py, and the package beside it."""
