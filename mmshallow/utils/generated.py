"""Generated blocks of the docs: text between a start and an end marker line that a tool
rewrites (model zoo, troubleshooting, benchmark and INT8 tables)."""
from typing import Tuple


def _split(path: str, start: str, end: str) -> Tuple[str, str, str]:
    """(text before ``start``, text between the markers, text after ``end``) of the file."""
    with open(path) as f:
        text = f.read()
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f'{path} needs exactly one {start} and one {end} line')
    head, rest = text.split(start)
    inside, tail = rest.split(end)
    return head, inside, tail


def replace_between(path: str, block: str, start: str, end: str) -> None:
    """Replace ``start ... end`` in the file at ``path`` by ``block`` (which carries the
    markers itself). Raises ValueError unless the file holds each marker exactly once."""
    head, _, tail = _split(path, start, end)
    with open(path, 'w') as f:
        f.write(head + block + tail)


def between(path: str, start: str, end: str) -> str:
    """The block ``start ... end`` (markers included) of the file at ``path``."""
    return start + _split(path, start, end)[1] + end
