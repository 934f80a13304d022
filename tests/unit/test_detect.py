"""Detection and landmarks on a real face, and a failure row for every kind of bad input."""

import io

import numpy as np
import pytest
from PIL import Image

from maskaudit.detect import (
    acquisition_table,
    detect_images,
    face_chip,
    load_landmarks,
    merge_shards,
    save_landmarks,
    shard_rows,
)
from maskaudit.tsv import write_tsv
from maskaudit.weights import WeightsNotFound, find_weights


def _write(tmp_path, name, img, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return str(path)


def test_real_face_gives_68_plausible_landmarks(detector, hopper_rgb):
    det = detector.detect(hopper_rgb)
    assert det.status == "ok" and det.n_faces == 1
    lm = det.landmarks
    assert lm.shape == (68, 2)
    eyes_y = lm[36:48, 1].mean()
    # eyes above nose tip above mouth above chin
    assert eyes_y < lm[30, 1] < lm[48:68, 1].mean() < lm[8, 1]
    assert lm[36:42, 0].mean() < lm[42:48, 0].mean()  # subject's right eye is on the image's left
    x1, y1, x2, y2 = det.box
    assert x1 <= lm[30, 0] <= x2 and y1 <= lm[30, 1] <= y2


def test_aligned_chip(hopper_rgb, detector):
    chip = face_chip(hopper_rgb, detector.detect(hopper_rgb).landmarks)
    assert chip.shape == (150, 150, 3) and chip.dtype == np.uint8


def test_bad_inputs_become_failure_rows(tmp_path, detector, hopper_path, hopper_rgb):
    hopper = Image.fromarray(hopper_rgb)
    data = hopper_path.read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 3])
    rgba = np.dstack([hopper_rgb, np.full(hopper_rgb.shape[:2], 255, np.uint8)])
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated 90 CW; viewers rotate it back
    buf = io.BytesIO()
    hopper.transpose(Image.Transpose.ROTATE_270).save(
        buf, format="JPEG", exif=exif.tobytes(), quality=95
    )
    rotated = tmp_path / "rotated.jpg"
    rotated.write_bytes(buf.getvalue())
    rng = np.random.default_rng(0)
    cases = {
        "upright": str(hopper_path),
        "truncated": str(truncated),
        "rgba": _write(tmp_path, "rgba.png", Image.fromarray(rgba, "RGBA")),
        "grey": _write(tmp_path, "grey.png", hopper.convert("L")),
        "exif_rotated": str(rotated),
        "no_face": _write(
            tmp_path,
            "noise.png",
            Image.fromarray(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)),
        ),
        "two_faces": _write(
            tmp_path, "two.png", Image.fromarray(np.hstack([hopper_rgb, hopper_rgb]))
        ),
        "missing": str(tmp_path / "absent.jpg"),
    }
    dets = detect_images(list(cases.values()), list(cases), detector)
    table = acquisition_table(list(cases), dets).set_index("image_id")
    assert table.status.to_dict() == {
        "upright": "ok",
        "truncated": "unreadable",
        "rgba": "ok",
        "grey": "ok",
        "exif_rotated": "ok",
        "no_face": "no_face",
        "two_faces": "multiple_faces",
        "missing": "missing_file",
    }
    assert table.loc["two_faces", "n_faces"] == 2 and "2 faces" in table.loc["two_faces", "detail"]
    by_id = dict(zip(cases, dets))
    # the EXIF-rotated copy is read upright, so its landmarks land where the upright image's do
    assert np.abs(by_id["exif_rotated"].landmarks - by_id["upright"].landmarks).max() < 6
    assert np.abs(by_id["rgba"].landmarks - by_id["upright"].landmarks).max() < 1e-6


def test_landmarks_round_trip(tmp_path, detector, hopper_rgb):
    det = detector.detect(hopper_rgb)
    failed = detector.detect(np.zeros((100, 100, 3), np.uint8))
    path = tmp_path / "lm.npz"
    save_landmarks(path, ["a", "b"], [det, failed])
    loaded = load_landmarks(path)
    assert np.array_equal(loaded["a"], det.landmarks) and loaded["b"] is None


@pytest.mark.parametrize("n, count", [(10, 3), (2, 5), (0, 2), (7, 1)])
def test_shards_partition_the_manifest_in_order(n, count):
    parts = [shard_rows(n, i, count) for i in range(1, count + 1)]
    assert np.concatenate(parts).tolist() == list(range(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError, match="numbered 1..3"):
        shard_rows(10, 0, 3)


def test_merged_shards_equal_one_unsharded_run(tmp_path, detector, hopper_rgb):
    """Sharding changes no byte: landmarks and the acquisition table match a single-job run."""
    dets = [
        detector.detect(hopper_rgb),
        detector.detect(np.zeros((100, 100, 3), np.uint8)),
        detector.detect(hopper_rgb[:, ::-1].copy()),
    ]
    ids = ["a", "b", "c"]

    def write(stem, rows):
        save_landmarks(tmp_path / f"{stem}.npz", [ids[i] for i in rows], [dets[i] for i in rows])
        write_tsv(
            acquisition_table([ids[i] for i in rows], [dets[i] for i in rows]),
            tmp_path / f"{stem}.tsv",
        )

    write("whole", [0, 1, 2])
    shards = [shard_rows(3, i, 2) for i in (1, 2)]  # [0, 1] holds the failure, [2] has none
    for k, rows in enumerate(shards, 1):
        write(f"{k}-of-2", rows)
    names = [f"{k}-of-2" for k in (1, 2)]
    merge_shards(
        [tmp_path / f"{n}.npz" for n in names],
        [tmp_path / f"{n}.tsv" for n in names],
        tmp_path / "merged.npz",
        tmp_path / "merged.tsv",
        ids,
    )
    assert (tmp_path / "merged.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()
    with np.load(tmp_path / "merged.npz") as m, np.load(tmp_path / "whole.npz") as w:
        assert all(np.array_equal(m[k], w[k], equal_nan=m[k].dtype.kind == "f") for k in w.files)
    with pytest.raises(ValueError, match="rerun detect_faces"):
        merge_shards(
            [tmp_path / "1-of-2.npz"],
            [tmp_path / "1-of-2.tsv"],
            tmp_path / "x.npz",
            tmp_path / "x.tsv",
            ids,
        )


def test_missing_weights_message_names_file_and_fix(tmp_path, monkeypatch):
    monkeypatch.setattr("maskaudit.weights.packaged_dirs", lambda: [])
    with pytest.raises(WeightsNotFound) as err:
        find_weights("shape_predictor_68_face_landmarks.dat", tmp_path)
    msg = str(err.value)
    assert (
        "shape_predictor_68_face_landmarks.dat" in msg
        and str(tmp_path) in msg
        and "weights_dir" in msg
    )


def test_weights_dir_takes_precedence(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"w")  # .bin: no format check (a .dat must load in dlib)
    assert find_weights("x.bin", tmp_path) == tmp_path / "x.bin"
