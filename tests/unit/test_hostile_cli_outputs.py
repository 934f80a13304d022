"""Hostile input, class *CLI outputs*: ``maskaudit mask`` never destroys its input and never loses its record.

Each case states the expected outcome: a refusal (exit 2, nothing written, originals byte-identical),
a counted row in the manifest, or the manifest written complete when the batch stops early.
"""

import hashlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from maskaudit.cli import main


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)


def digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def photos(tmp_path, hopper_rgb):
    src = tmp_path / "photos"
    (src / "sub").mkdir(parents=True)
    small = Image.fromarray(hopper_rgb).resize((256, 320))
    small.save(src / "a.jpg")
    small.save(src / "sub" / "b.png")
    return src


def test_output_equal_to_the_input_folder_is_refused(photos, capsys):
    """Outcome: refusal, exit 2, every original byte-identical (the issue's `mask DIR -o DIR`)."""
    before = digest(photos)
    assert main(["mask", str(photos), "-o", str(photos)]) == 2
    assert "is the input folder" in capsys.readouterr().out and digest(photos) == before
    # asked explicitly: masked in place, every original listed once
    assert main(["mask", str(photos), "-o", str(photos), "--overwrite-input"]) == 0
    rows = read(photos / "manifest.tsv")
    assert (
        sorted(rows.input) == [str(photos / "a.jpg"), str(photos / "sub" / "b.png")]
        and (rows.status == "ok").all()
    )
    assert digest(photos)["a.jpg"] != before["a.jpg"]


def test_output_inside_the_input_is_refused_unless_asked_and_never_read_back(photos, capsys):
    """Outcome: refusal; with --overwrite-input it runs, and the next run does not mask the masks."""
    before = digest(photos)
    inside = photos / "masked"
    assert main(["mask", str(photos), "-o", str(inside)]) == 2
    assert "inside the input folder" in capsys.readouterr().out and digest(photos) == before
    for _ in range(2):
        assert main(["mask", str(photos), "-o", str(inside), "--overwrite-input"]) == 0
        assert sorted(read(inside / "manifest.tsv").input) == [
            str(photos / "a.jpg"),
            str(photos / "sub" / "b.png"),
        ]
    assert {k: v for k, v in digest(photos).items() if not k.startswith("masked/")} == before


def test_a_single_file_onto_itself_is_refused(photos, capsys):
    before = digest(photos)
    assert main(["mask", str(photos / "a.jpg"), "-o", str(photos / "a.jpg")]) == 2
    # folder output: same name, same place
    assert main(["mask", str(photos / "a.jpg"), "-o", str(photos)]) == 2
    assert "would overwrite the input" in capsys.readouterr().out and digest(photos) == before


def test_a_write_error_is_a_manifest_row_and_the_run_goes_on(photos, tmp_path):
    """Outcome: ``write_error`` row naming the target, the other image written, exit 1."""
    out = tmp_path / "out"
    (out / "a.jpg").mkdir(parents=True)  # the target name is taken by a folder: the write fails
    assert main(["mask", str(photos), "-o", str(out)]) == 1
    rows = read(out / "manifest.tsv").set_index("input")
    assert (
        rows.status[str(photos / "a.jpg")] == "write_error"
        and "could not write" in rows.detail[str(photos / "a.jpg")]
    )
    assert rows.status[str(photos / "sub" / "b.png")] == "ok" and (out / "sub" / "b.png").is_file()


def test_an_unwritable_manifest_folder_is_refused_before_any_work(photos, tmp_path, capsys):
    (tmp_path / "blocked").write_text("a file where the output folder should be")
    assert main(["mask", str(photos), "-o", str(tmp_path / "blocked" / "out")]) == 2
    assert "cannot write the manifest" in capsys.readouterr().out


def test_a_batch_stopped_early_still_writes_a_complete_manifest(photos, tmp_path, monkeypatch):
    """Outcome: Ctrl-C after the first image; the manifest lists the written image and the one not reached."""
    from maskaudit.masks.faces import FaceFinder

    real, calls = FaceFinder.find, []

    def find(self, rgb):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, rgb)

    monkeypatch.setattr(FaceFinder, "find", find)
    with pytest.raises(KeyboardInterrupt):
        main(["mask", str(photos), "-o", str(tmp_path / "out")])
    rows = read(tmp_path / "out" / "manifest.tsv")
    assert list(rows.status) == ["ok", "not_processed"] and rows.output[0].endswith("a.jpg")
    assert not (tmp_path / "out" / "manifest.tsv.part").exists()


def test_several_types_in_one_pass_detect_each_face_once(photos, tmp_path, monkeypatch):
    """Outcome: one detection per image, one render per type and colour, types in any case."""
    from maskaudit.masks.faces import FaceFinder

    real, calls = FaceFinder.find, []
    monkeypatch.setattr(FaceFinder, "find", lambda self, rgb: calls.append(1) or real(self, rgb))
    out = tmp_path / "out"
    assert (
        main(
            [
                "mask",
                str(photos),
                "-o",
                str(out),
                "--type",
                "Surgical,N95",
                "--color",
                "blue,#1F5FBF",
            ]
        )
        == 0
    )
    assert len(calls) == 2
    rows = read(out / "manifest.tsv")
    assert (
        len(rows) == 8
        and set(rows.kind) == {"surgical", "n95"}
        and set(rows.colour) == {"#7FB2E0", "#1F5FBF"}
    )
    for variant in ("surgical-blue", "n95-blue", "surgical-1f5fbf", "n95-1f5fbf"):
        assert (out / variant / "a.jpg").is_file() and (out / variant / "sub" / "b.png").is_file()
    one = tmp_path / "one.jpg"  # the same render as a single-type run
    assert main(["mask", str(photos / "a.jpg"), "-o", str(one), "--type", "N95"]) == 0
    assert np.array_equal(
        np.asarray(Image.open(one)), np.asarray(Image.open(out / "n95-blue" / "a.jpg"))
    )


@pytest.mark.parametrize(
    "argv,says",
    [
        (["--type", "balaclava"], "invalid mask type balaclava"),
        (["--upsample", "-1"], "must be a whole number >= 0"),
    ],
)
def test_bad_options_are_a_usage_error_without_a_traceback(photos, tmp_path, capsys, argv, says):
    with pytest.raises(SystemExit) as exc:
        main(["mask", str(photos), "-o", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and says in err and "Traceback" not in err and "array(" not in err


@pytest.mark.parametrize("colour", ["##12345", "#+F+F+F", "#12345", "blue2"])
def test_the_cli_and_the_config_reject_the_same_colours(photos, tmp_path, capsys, colour):
    """Outcome: refusal by the one colour check (maskaudit.masking.resolve_colour) on both paths."""
    from maskaudit.config import ConfigError, _check_cross_references

    assert main(["mask", str(photos), "-o", str(tmp_path / "out"), "--color", colour]) == 2
    assert colour in capsys.readouterr().out
    config = {
        "masks": {
            "colours": {"blue": "#7FB2E0"},
            "variants": {"v": {"kind": "n95", "colour": colour}},
        },
        "datasets": {},
    }
    with pytest.raises(ConfigError, match="masks.variants.v.colour"):
        _check_cross_references(config)


def test_a_symlink_loop_is_a_manifest_row(photos, tmp_path):
    """Outcome: an ``unreadable`` row saying 'symlink loop', the other images masked."""
    (photos / "loop.jpg").symlink_to("loop.jpg")
    assert main(["mask", str(photos), "-o", str(tmp_path / "out")]) == 0
    rows = read(tmp_path / "out" / "manifest.tsv").set_index("input")
    assert (
        rows.status[str(photos / "loop.jpg")] == "unreadable"
        and rows.detail[str(photos / "loop.jpg")] == "symlink loop"
    )
