"""The troubleshooting table of docs/troubleshooting.md, generated from the bad-input suite
(tests/test_bad_inputs.py: each case is a wrong input, the exception it raises and a piece of
its message).

    python tools/troubleshooting.py                  # print the table
    python tools/troubleshooting.py --write          # replace it in docs/troubleshooting.md
    python tools/troubleshooting.py --write PAGE.md  # ... or in another page with the markers
"""
import argparse
import importlib.util
import sys
from pathlib import Path

from mmshallow.utils.generated import replace_between

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / 'docs' / 'troubleshooting.md'
START, END = '<!-- troubleshooting:start -->', '<!-- troubleshooting:end -->'


def load_cases():
    path = REPO / 'tests' / 'test_bad_inputs.py'
    spec = importlib.util.spec_from_file_location('test_bad_inputs', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def markdown_table(cases) -> str:
    def cell(text):
        return text.replace('|', '\\|')

    lines = ['| you passed | you get | the message says |', '|---|---|---|']
    lines += [f'| {cell(c.bad_input)} | `{c.error}` | {cell(c.says)} |' for c in cases]
    return '\n'.join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--write', metavar='PAGE', nargs='?', const=str(PAGE),
                        help='replace the table between the troubleshooting markers of this '
                        'Markdown file (default: docs/troubleshooting.md)')
    args = parser.parse_args(argv)
    table = markdown_table(load_cases())
    if not args.write:
        print(table)
        return 0
    try:
        replace_between(args.write, f'{START}\n{table}\n{END}', START, END)
    except ValueError as err:
        print(f'troubleshooting: {err}', file=sys.stderr)
        return 2
    print(f'{len(load_cases())} cases written to {args.write}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
