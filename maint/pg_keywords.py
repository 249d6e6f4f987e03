"""Regenerate extensions/copier_atlas_postgres/data/pg_reserved_keywords.txt from pglast (PostgreSQL's own parser).

The generated template must not need pglast at copy time, so the keyword list is
written out once here; tests/test_answers.py checks it still matches pglast.
Run: .venv/bin/python maint/pg_keywords.py
"""

from pathlib import Path

from pglast import keywords

TARGET = Path(__file__).resolve().parent.parent / "extensions" / "copier_atlas_postgres" / "data" / "pg_reserved_keywords.txt"


def render() -> str:
    # Reserved keywords and "reserved (can be function or type)" ones are both
    # rejected by PostgreSQL as a bare schema, database or role name.
    words = sorted(keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS)
    return "".join(f"{w}\n" for w in words)


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
