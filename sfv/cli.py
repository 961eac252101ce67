"""`sfv` command line: the thin twin of the notebooks (what DVC stages call)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["cluster"]:  # its own options (sfv/cluster.py)
        from sfv.cluster import main as cluster_main

        return cluster_main(argv[1:])
    if argv[:1] == ["store"]:  # the shipped store (sfv/store.py)
        from sfv.store import main as store_main

        return store_main(argv[1:])
    if argv[:1] == ["play"]:  # a trained policy, without training (sfv/imitate/play.py)
        from sfv.imitate.play import main as play_main

        return play_main(argv[1:])
    if argv[:1] == ["why"]:  # what limits a trained policy (sfv/analysis/limits.py)
        from sfv.analysis.limits import main as why_main

        return why_main(argv[1:])
    parser = argparse.ArgumentParser(prog="sfv", description="SFV kit: run pipeline stages and checks.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute a stage's notebook with params.yaml (what `dvc repro` calls)")
    run.add_argument("stage")
    run.add_argument("--params", default="params.yaml")
    run.add_argument("--output", default=None, help="executed notebook path (default reports/notebooks/)")
    run.add_argument("--clip", default=None, help="the clip, for the stages that run once per clip")
    sub.add_parser("cluster", help="run several stages at once on a Ray cluster (sfv cluster --help)")
    sub.add_parser("store", help="the shipped store: save, restore, size (sfv store --help)")
    sub.add_parser("play", help="play and re-evaluate a trained policy, e.g. `sfv play imitate@walk` (sfv play --help)")
    sub.add_parser("why", help="what limits a trained policy, e.g. `sfv why imitate@roll` (sfv why --help)")
    check = sub.add_parser("check-params", help="validate params.yaml against the schema")
    check.add_argument("path", nargs="?", default="params.yaml")
    args = parser.parse_args(argv)

    from sfv.config import ParamsError, load_params

    try:
        if args.command == "check-params":
            p = load_params(args.path)
            print(f"{args.path}: OK ({len(p.clips)} clips)")
        elif args.command == "run":
            from sfv.notebook import run_stage

            out = run_stage(args.stage, params_path=args.params, output=args.output, clip=args.clip)
            print(f"stage {args.stage}{'@' + args.clip if args.clip else ''}: executed notebook {out}")
            from sfv.report.export import HTML_PAGES, notebook_html

            if args.stage in HTML_PAGES:
                page = notebook_html(out, HTML_PAGES[args.stage], title="sfv: results")
                print(f"stage {args.stage}: static page {page}")
    except (ParamsError, KeyError) as e:
        print(f"error: {e.args[0] if isinstance(e, KeyError) else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
