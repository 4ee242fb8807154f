"""Generated blocks of the docs: text between a start and an end marker line that a tool
rewrites (model zoo, troubleshooting and INT8 tables)."""


def replace_between(path: str, block: str, start: str, end: str) -> None:
    """Replace ``start ... end`` in the file at ``path`` by ``block`` (which carries the
    markers itself). Raises ValueError unless the file holds each marker exactly once."""
    with open(path) as f:
        text = f.read()
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f'{path} needs exactly one {start} and one {end} line')
    head, rest = text.split(start)
    _, tail = rest.split(end)
    with open(path, 'w') as f:
        f.write(head + block + tail)


def between(path: str, start: str, end: str) -> str:
    """The block ``start ... end`` (markers included) of the file at ``path``."""
    with open(path) as f:
        text = f.read()
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f'{path} needs exactly one {start} and one {end} line')
    return start + text.split(start)[1].split(end)[0] + end
