"""Just enough HCL to read a hand-written atlas.hcl: its blocks and attributes, with line numbers.

Adopting a server built by hand from the convention doc reads its atlas.hcl for answer defaults
(the dev URL, the schemas list, the registry repo) and reports every setting the template does not
generate. This runs in the user's copier environment (no HCL library there); the tests check it
against python-hcl2 on the doc's atlas.hcl and the template's own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r'(?P<space>[ \t\r]+)|(?P<newline>\n)|(?P<comment>(?:#|//)[^\n]*|/\*.*?\*/)'
    # A quoted string ends on its own line (HCL's rule): an unterminated one is refused there.
    r'|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<word>[A-Za-z_][A-Za-z0-9_.-]*)'
    r'|(?P<open>[{(\[])|(?P<close>[})\]])|(?P<other>.)',
    re.S,
)


# A quoted string without interpolation (`${...}`, `%{...}`): its value is the JSON string's.
_PLAIN_STRING = r'"(?:[^"\\$%]|\\.|[$%](?![{$%]))*"'


@dataclass(frozen=True)
class Attribute:
    path: tuple[str, ...]  # block type and labels, then nested blocks, then the attribute name
    expression: str  # as written
    line: int

    @property
    def string(self) -> str | None:
        """The value when the expression is one plain string literal (no interpolation)."""
        text = self.expression.strip()
        if re.fullmatch(_PLAIN_STRING, text):
            return json.loads(text)
        return None

    @property
    def strings(self) -> list[str] | None:
        """The values when the expression is a list of plain string literals."""
        text = self.expression.strip()
        if not (text.startswith("[") and text.endswith("]")):
            return None
        items = [item.strip() for item in text[1:-1].split(",") if item.strip()]
        if not all(re.fullmatch(_PLAIN_STRING, item) for item in items):
            return None
        return [json.loads(item) for item in items]


@dataclass(frozen=True)
class Block:
    path: tuple[str, ...]  # e.g. ("env", "dev") or ("env", "dev", "schema", "repo")
    line: int


def read(text: str) -> tuple[list[Block], list[Attribute]]:
    """Every block (type + labels) and every attribute of an HCL file, in order."""
    tokens = [(m.lastgroup, m.group(0), text.count("\n", 0, m.start()) + 1, m.start(), m.end())
              for m in _TOKEN.finditer(text) if m.lastgroup not in ("space", "comment")]
    if unterminated := next((t for t in tokens if t[0] == "other" and t[1] == '"'), None):
        raise ValueError(f"line {unterminated[2]}: a string is not terminated")
    blocks: list[Block] = []
    attributes: list[Attribute] = []
    stack: list[tuple[str, ...]] = [()]
    i = 0
    while i < len(tokens):
        kind, value, line, _, _ = tokens[i]
        if kind in ("newline",) or (kind == "close" and value == "}"):
            if value == "}":
                if len(stack) == 1:
                    raise ValueError(f"line {line}: '}}' closes no block")
                stack.pop()
            i += 1
            continue
        if kind != "word":
            raise ValueError(f"line {line}: unexpected {value!r}")
        j = i + 1
        if j < len(tokens) and tokens[j][1] == "=":
            start = j + 1
            depth, k = 0, start
            while k < len(tokens) and not (depth == 0 and tokens[k][0] == "newline"):
                if tokens[k][0] == "open":
                    depth += 1
                elif tokens[k][0] == "close":
                    if depth == 0:
                        break
                    depth -= 1
                k += 1
            expression = text[tokens[start][3]:tokens[k - 1][4]] if k > start else ""
            attributes.append(Attribute((*stack[-1], value), expression, line))
            i = k
            continue
        labels = []
        while j < len(tokens) and tokens[j][0] in ("string", "word"):
            labels.append(json.loads(tokens[j][1]) if tokens[j][0] == "string" else tokens[j][1])
            j += 1
        if j >= len(tokens) or tokens[j][1] != "{":
            raise ValueError(f"line {line}: expected '{{' after block {value}")
        path = (*stack[-1], value, *labels)
        blocks.append(Block(path, line))
        stack.append(path)
        i = j + 1
    if len(stack) > 1:
        opened = next(b for b in reversed(blocks) if b.path == stack[-1])
        raise ValueError(f"line {opened.line}: block {' '.join(opened.path)} is not closed")
    return blocks, attributes
