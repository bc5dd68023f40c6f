"""A small strict iCalendar reader for the tests (RFC 5545): CRLF line ends, physical
lines of at most 75 octets, unfolding, properties with parameters, BEGIN/END nesting,
TEXT unescaping. Anything malformed fails loudly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^[A-Z0-9-]+$")


@dataclass
class Component:
    name: str
    props: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def get(self, name: str) -> str:
        found = [v for n, _p, v in self.props if n == name]
        assert len(found) == 1, (name, found)
        return found[0]

    def params(self, name: str) -> dict[str, str]:
        return next(p for n, p, _v in self.props if n == name)

    def all(self, name: str) -> list[Component]:
        return [c for c in self.children if c.name == name]


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            nxt = value[i + 1]
            assert nxt in "\\;,nN", f"bad escape \\{nxt}"
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        assert char not in ";,", f"unescaped {char!r} in TEXT"
        out.append(char)
        i += 1
    return "".join(out)


def parse(data: bytes) -> Component:
    assert data.endswith(b"\r\n")
    physical = data[:-2].split(b"\r\n")
    for line in physical:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 75, (len(line), line)
    logical: list[str] = []
    for raw in physical:
        text = raw.decode("utf-8")  # each physical line is whole characters
        if text.startswith((" ", "\t")):
            logical[-1] += text[1:]
        else:
            logical.append(text)
    stack: list[Component] = []
    root: Component | None = None
    for line in logical:
        head, sep, value = line.partition(":")
        assert sep, line
        name, *raw_params = head.split(";")
        assert _NAME.match(name), line
        params = dict(p.split("=", 1) for p in raw_params)
        if name == "BEGIN":
            comp = Component(value)
            if stack:
                stack[-1].children.append(comp)
            stack.append(comp)
        elif name == "END":
            comp = stack.pop()
            assert comp.name == value, (comp.name, value)
            if not stack:
                root = comp
        else:
            stack[-1].props.append((name, params, value))
    assert not stack and root is not None and root.name == "VCALENDAR"
    return root
