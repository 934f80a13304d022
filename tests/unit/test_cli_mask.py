"""``maskaudit mask``: one image, and a folder tree end to end (structure kept, every file accounted for)."""

import numpy as np
import pandas as pd
from PIL import Image

from maskaudit.cli import main


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, dtype={"seed": str})


def test_single_image(tmp_path, hopper_path, hopper_rgb):
    out = tmp_path / "masked.png"
    assert (
        main(["mask", str(hopper_path), "-o", str(out), "--type", "surgical", "--color", "#1f5fbf"])
        == 0
    )
    masked = np.asarray(Image.open(out))
    assert masked.shape == hopper_rgb.shape and (masked != hopper_rgb).any(axis=2).mean() > 0.05
    row = read(tmp_path / "masked.manifest.tsv").iloc[0]
    assert (
        row.status == "ok"
        and row.kind == "surgical"
        and row.colour == "#1F5FBF"
        and str(row.placement_ok) == "True"
    )
    again = tmp_path / "again.png"
    main(["mask", str(hopper_path), "-o", str(again), "--type", "surgical", "--color", "#1f5fbf"])
    assert again.read_bytes() == out.read_bytes()  # seeded: byte-identical


def test_folder_mode_walks_keeps_structure_and_explains_skips(tmp_path, hopper_rgb):
    src = tmp_path / "in"
    (src / "a" / "b").mkdir(parents=True)
    img = Image.fromarray(hopper_rgb)
    img.save(src / "Hopper.Portrait.v2.JPG")  # upper case, several dots
    img.save(src / "a" / "hopper.jpeg")
    img.convert("L").save(src / "a" / "b" / "grey.PNG")  # grayscale
    img.convert("RGBA").save(src / "a" / "b" / "rgba.png")
    Image.fromarray(np.asarray(img.convert("L")).astype(np.uint16) * 257).save(
        src / "a" / "sixteen.png"
    )
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(src / "a" / "empty.png")  # no face
    (src / "broken.jpg").write_bytes(b"not an image")
    (src / "notes.txt").write_text("not an image either")
    out = tmp_path / "out"
    assert (
        main(
            [
                "mask",
                str(src),
                "-o",
                str(out),
                "--type",
                "cloth",
                "--color",
                "skin_dark",
                "--texture",
                "dots",
            ]
        )
        == 0
    )
    table = read(out / "manifest.tsv").set_index("input")
    assert len(table) == 7 and not any(p.endswith("notes.txt") for p in table.index)
    status = {p.replace(str(src) + "/", ""): s for p, s in table.status.items()}
    assert status == {
        "Hopper.Portrait.v2.JPG": "ok",
        "a/hopper.jpeg": "ok",
        "a/b/grey.PNG": "ok",
        "a/b/rgba.png": "ok",
        "a/sixteen.png": "ok",
        "a/empty.png": "no_face",
        "broken.jpg": "unreadable",
    }
    for name in [
        "Hopper.Portrait.v2.JPG",
        "a/hopper.jpeg",
        "a/b/grey.PNG",
        "a/b/rgba.png",
        "a/sixteen.png",
    ]:
        assert (out / name).is_file(), name
    assert not (out / "a" / "empty.png").exists() and not (out / "broken.jpg").exists()
    assert "nothing written" in table.detail[str(src / "a" / "empty.png")]
    ok = table[table.status == "ok"]
    assert (
        (ok.colour == "#6B4632").all()
        and (ok.texture == "dots").all()
        and (ok.eyes_clear.astype(str) == "True").all()
    )
    assert (
        Image.open(out / "a" / "hopper.jpeg").format == "JPEG"
        and Image.open(out / "a/b/rgba.png").format == "PNG"
    )


def test_face_policy_largest_or_all(tmp_path, hopper_rgb):
    big = np.asarray(Image.fromarray(hopper_rgb).resize((360, 450)))
    small = np.asarray(Image.fromarray(hopper_rgb).resize((270, 338)))
    group = np.full((450, 640, 3), 200, np.uint8)
    group[:, :360], group[50:388, 370:] = big, small
    Image.fromarray(group).save(tmp_path / "group.png")
    for policy, n_rows in (("largest", 1), ("all", 2)):
        out = tmp_path / f"{policy}.png"
        assert main(["mask", str(tmp_path / "group.png"), "-o", str(out), "--faces", policy]) == 0
        rows = read(tmp_path / f"{policy}.manifest.tsv")
        assert len(rows) == n_rows and (rows.n_faces == 2).all() and (rows.status == "ok").all()
        changed = (np.asarray(Image.open(out)) != group).any(axis=2)
        assert changed[:, :360].any() and changed[:, 370:].any() == (policy == "all")
    assert "1 smaller face(s) left unmasked" in read(tmp_path / "largest.manifest.tsv").detail[0]
