"""Measure every family and arch of the catalogue and write the model zoo: docs/model_zoo.md's
tables, each configs/<family>/README.md's table, docs/model_zoo.json and docs/model_zoo.png.

    python tools/model_zoo.py [--runs 15] [--families repvgg parnet ...] [--archs A0 s ...]
        [--json docs/model_zoo.json] [--png docs/model_zoo.png] [--write]
    python tools/model_zoo.py --from-json docs/model_zoo.json --write       # no measuring
    python tools/model_zoo.py --from-json docs/model_zoo.json --families qarepvgg --runs 0 \
        --json docs/model_zoo.json                     # add or replace some families' rows

For each arch, as an ImageNet classifier with the family's official classifier (1000
classes, :mod:`mmshallow.models.catalogue`): parameters train-time and deploy, FLOPs of the
deploy model at the arch's native size and depth (:mod:`mmshallow.analysis.complexity`), CPU
latency at batch 1 of the train-time and of the fused model (median of ``--runs`` runs, same
process, eager PyTorch, random BN statistics; ``--runs 0``: none), beside the paper's numbers.
The digits quickstart rows come from ``--quickstart`` (the JSON that
``tools/quickstart.py classification --all`` writes): measured top-1 (train-time and fused) and
training time, plus the same measurements at 32x32.
"""
import argparse
import json
import os.path as osp
import sys

from mmshallow.analysis import model_zoo as zoo_lib
from mmshallow.models.catalogue import FAMILIES
from mmshallow.utils.generated import replace_between

REPO = zoo_lib.REPO


def write_pages(zoo: dict, repo: str = REPO) -> None:
    """Replace the generated blocks of docs/model_zoo.md and every configs/<family>/README.md."""
    replace_between(osp.join(repo, 'docs', 'model_zoo.md'), zoo_lib.markdown(zoo),
                    zoo_lib.START, zoo_lib.END)
    for family in FAMILIES.values():
        replace_between(osp.join(repo, 'configs', family.key, 'README.md'),
                        zoo_lib.family_readme_block(zoo, family), zoo_lib.FAMILY_START,
                        zoo_lib.FAMILY_END)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--families', nargs='+', choices=list(FAMILIES), default=None,
                        help='measure these families (default: all)')
    parser.add_argument('--archs', nargs='+', help='only these archs (default: all)')
    parser.add_argument('--runs', type=int, default=15,
                        help='timed runs per latency (0: complexity only)')
    parser.add_argument('--quickstart', help="the JSON of tools/quickstart.py classification "
                        '--all (default: docs/quickstart_digits.json if present)')
    parser.add_argument('--json', help='write the measurements here')
    parser.add_argument('--png', help='write the picture here')
    parser.add_argument('--write', action='store_true',
                        help='replace the generated tables of docs/model_zoo.md and '
                        'configs/<family>/README.md')
    parser.add_argument('--from-json', help='start from earlier measurements: without '
                        '--families / --quickstart nothing is measured; with them, those rows '
                        'are measured anew and replace their old ones')
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error(f'--runs must be >= 0, got {args.runs}')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.from_json:
        zoo = json.load(open(args.from_json))
        families = args.families or []
        if args.quickstart:  # the ImageNet rows as they were, the quickstart rows measured anew
            zoo['quickstart'] = zoo_lib.measure_quickstart(args.quickstart, zoo['runs'])
    else:
        families = args.families or list(FAMILIES)
        quickstart = args.quickstart or osp.join(REPO, 'docs', 'quickstart_digits.json')
        zoo = dict(machine=zoo_lib.machine(), runs=args.runs, rows=[],
                   quickstart=(zoo_lib.measure_quickstart(quickstart, args.runs)
                               if osp.exists(quickstart) else []))
    for key in families:
        new = zoo_lib.measure_family(FAMILIES[key], args.archs, args.runs)
        replaced = {(r['family'], r['arch']) for r in new}
        zoo['rows'] = [r for r in zoo['rows'] if (r['family'], r['arch']) not in replaced] + new
    order = {key: i for i, key in enumerate(FAMILIES)}
    zoo['rows'].sort(key=lambda r: (order[r['family']],
                                    FAMILIES[r['family']].archs.index(r['arch'])))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(zoo, f, indent=1)
    if args.png:
        zoo_lib.plot(zoo, args.png)
    if args.write:
        write_pages(zoo)
    else:
        print(zoo_lib.markdown(zoo))
    return zoo


if __name__ == '__main__':
    main(sys.argv[1:])
