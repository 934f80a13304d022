"""``maskaudit datasets``: the adapter table, and where each archive of a dataset goes."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "datasets", help="list dataset adapters, or show how to obtain one dataset's archives"
    )
    p.add_argument(
        "adapter", nargs="?", help="an adapter name; without it, the table of every adapter"
    )
    p.add_argument(
        "--manual-dir", default="resources/manual", help="downloads.manual_dir of your config"
    )
    p.add_argument("--dataset", help="the dataset id in your config (default: the adapter name)")
    p.set_defaults(func=run)


def run(args) -> int:
    from maskaudit.datasets.adapters import adapter_table, get_adapter
    from maskaudit.datasets.gated import manual_path

    if not args.adapter:
        print(adapter_table(), end="")
        return 0
    try:
        a = get_adapter(args.adapter)
    except KeyError as exc:
        print(exc.args[0])
        return 2
    dataset = args.dataset or a.name
    print(
        f"{a.title}\n  home:    {a.homepage}\n  licence: {a.licence} ({a.licence_url})\n  access:  {a.access}"
    )
    if a.how:
        print(f"  how:     {a.how}")
    for arc in a.archives:
        where = (
            f"put it at {manual_path(args.manual_dir, dataset, arc)}"
            if a.access == "manual"
            else f"downloaded from {arc.url}"
        )
        pin = arc.checksum or "not pinned (recorded on first use)"
        print(f"  - {arc.file}: {where}; checksum {pin}")
    return 0
