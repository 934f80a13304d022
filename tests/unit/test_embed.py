"""Embedding caches: each image decoded once, failures kept as NaN rows with the component's reason."""

import json

import numpy as np
import pandas as pd
from conftest import REPO
from PIL import Image

from maskaudit.embed import embed_images, load_cache, load_sidecar, save_cache, score_provenance
from maskaudit.models import get_card, load_model
from maskaudit.models.files import provision


def test_failures_are_charged_to_their_component_and_batches_do_not_change_vectors(
    tmp_path, hopper_rgb, monkeypatch
):
    fetch = str(REPO / "resources/weights")
    provision(get_card("dlib"), "end_to_end", fetch_dir=fetch)
    model = load_model("dlib", "end_to_end", fetch_dir=fetch)
    Image.fromarray(hopper_rgb).save(tmp_path / "face.png")
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    table = pd.DataFrame(
        {
            "image_id": ["face", "blank", "broken", "unmasked", "face2"],
            "path": [
                str(tmp_path / f)
                for f in ["face.png", "blank.png", "broken.png", "face.png", "face.png"]
            ],
            "status": ["ok", "ok", "ok", "mask_render_failed", "ok"],
        }
    )
    reads = []
    import maskaudit.embed as embed

    real = embed.read_rgb
    monkeypatch.setattr(embed, "read_rgb", lambda p: reads.append(p) or real(p))
    vectors, status, faces = embed_images(model, table, {}, batch_size=2)
    assert status == ["ok", "model_no_face", "unreadable", "mask_render_failed", "ok"]
    assert len(reads) == 4  # each image read once; the failed mask is never opened
    assert np.isfinite(vectors[[0, 4]]).all() and np.isnan(vectors[[1, 2, 3]]).all()
    assert np.array_equal(vectors[0], vectors[4])  # same face in another batch: same vector
    assert faces["n_faces"].tolist() == [1, 0, 0, 0, 1] and faces["face_box"][0, 2] > 100

    path = tmp_path / "cache.npz"
    save_cache(path, list(table.image_id), vectors, status, model.describe(), extra=faces)
    ids, vecs, st = load_cache(path)
    assert (
        ids == list(table.image_id)
        and st == status
        and np.array_equal(vecs, vectors, equal_nan=True)
    )
    side = load_sidecar(path)
    assert side["failures"] == {"mask_render_failed": 1, "model_no_face": 1, "unreadable": 1}
    assert score_provenance(side) == {
        "model_alignment": "end_to_end",
        "model_detector": "opencv",
        "model_engine": "pytorch",
        "deepface_version": "0.0.103",
        "threshold_source": side["threshold_source"],
    }
    assert json.loads(path.with_suffix(".json").read_text())["n_embedded"] == 2
