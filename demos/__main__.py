"""Command line: python -m demos [NAME | all] [--quick] [--out DIR], or --list.

With no name it runs the headline demo: a small network learns two moons in a
few seconds, and its decision boundary and graph are written to the output folder.
Run it from the repository's root (the demos are not part of the installed package).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from demos import DEFAULT_OUTPUT, DEMOS, HEADLINE, DemosExtraMissing, load, run, summary

DESCRIPTION = "Run chaingrad's demos. With no NAME, the headline demo: a network learns two moons."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demos", description=DESCRIPTION)
    parser.add_argument("name", nargs="?", default=HEADLINE,
                        help=f"a demo (see --list), or 'all'; default: {HEADLINE}")
    parser.add_argument("--list", action="store_true", help="list the demos and exit")
    parser.add_argument("--quick", action="store_true", help="smaller runs, as the tests use")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT,
                        help=f"output folder (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    if args.list:
        width = max(map(len, DEMOS))
        for name in DEMOS:
            print(f"{name.ljust(width)}  {summary(name)}")
        return
    names = DEMOS if args.name == "all" else (args.name,)
    if args.name != "all" and args.name not in DEMOS:
        parser.error(f"no demo named {args.name!r}; choose one of: {', '.join(DEMOS)}, all")
    try:
        for name in names:
            load(name)
    except DemosExtraMissing as missing:
        parser.exit(1, f"{parser.prog}: {missing}\n")
    print(f"output folder: {args.out.resolve()}\n")
    for name in names:
        run(name, args.out, quick=args.quick)


if __name__ == "__main__":
    main()
