"""Hostile input, class *weights*: a wrong file under a weight file's name never loads.

Each case states the expected outcome. Every outcome is a refusal (:class:`WeightsRejected`, a
``WeightsNotFound``) whose message names the file, the expected and the found hash or format, and
the fix; the file itself is never deleted or changed (it is the user's).
"""

import hashlib
import json
import warnings

import pytest
from deepface_weights import write_random_weights

from maskaudit.models import REGISTRY, load_model
from maskaudit.models.files import required_files
from maskaudit.weights import WeightFile, WeightsRejected, find_weights, locate_all, verify


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFACE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MASKAUDIT_USER_DEEPFACE_HOME", raising=False)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "model,name",
    [("facenet_cv", "graph_final.pb"), ("dlib", "dlib_face_recognition_resnet_model_v1.dat")],
)
def test_random_bytes_under_a_pinned_name_are_refused_naming_both_hashes_and_the_fix(
    tmp_path, model, name
):
    """Outcome: refusal before anything loads; the file stays."""
    mine = tmp_path / "mine"
    mine.mkdir()
    junk = b"\x00random bytes, not a network" * 100
    (mine / name).write_bytes(junk)
    with pytest.raises(WeightsRejected) as err:
        load_model(model, "shared_landmarks", weights_dir=str(mine), fetch_dir=str(tmp_path / "f"))
    msg = str(err.value)
    pinned = required_files(REGISTRY[model], "shared_landmarks")[0].sha256
    assert (
        str(mine / name) in msg
        and f"expected SHA-256 {pinned}" in msg
        and f"found {sha(junk)}" in msg
    )
    assert "Fix: delete or replace" in msg and f"Only the jobs of {model} stop" in msg
    assert (mine / name).read_bytes() == junk


def test_eye_cascade_under_the_frontal_face_name_is_refused(tmp_path):
    """The issue's case: any other cascade (here a copy of another XML) under the frontal-face name."""
    spec = next(
        f
        for f in required_files(REGISTRY["dlib"], "end_to_end")
        if f.name.startswith("haarcascade_front")
    )
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / spec.name).write_text(
        '<?xml version="1.0"?>\n<opencv_storage><cascade>eye</cascade></opencv_storage>\n'
    )
    with pytest.raises(WeightsRejected, match=f"expected SHA-256 {spec.sha256}"):
        locate_all([spec], "detector opencv", mine, tmp_path / "f")
    # the fetch_detector_weights rule's path: refused before a record with the wrong hash is written
    from maskaudit.models.files import provision_files

    with pytest.raises(WeightsRejected, match=str(mine / spec.name)):
        provision_files(
            [spec], "detector opencv", weights_dir=mine, fetch_dir=tmp_path / "f", download=False
        )


def test_a_corrupt_68_point_predictor_is_refused(tmp_path):
    (tmp_path / "shape_predictor_68_face_landmarks.dat").write_bytes(b"truncated")
    with pytest.raises(WeightsRejected, match="shape_predictor_68_face_landmarks.dat"):
        find_weights("shape_predictor_68_face_landmarks.dat", tmp_path, None)


def deepid_spec():
    return required_files(REGISTRY["deepid"], "shared_landmarks")[0]


def test_an_html_page_saved_as_a_state_dict_is_refused(tmp_path):
    spec = deepid_spec()
    page = b"<!DOCTYPE html><html><body>404 Not Found</body></html>"
    (tmp_path / spec.name).write_bytes(page)
    with pytest.raises(WeightsRejected, match="HTML page") as err:
        verify(spec, tmp_path / spec.name, "deepid", tmp_path / "f")
    assert f"found SHA-256 {sha(page)}" in str(err.value)


def test_another_architectures_state_dict_is_refused_naming_the_keys(tmp_path):
    """Outcome: refusal; DeepID's tensors under OpenFace's name have the wrong keys."""
    spec = required_files(REGISTRY["openface"], "shared_landmarks")[0]
    write_random_weights("DeepID", tmp_path / spec.name)
    with pytest.raises(WeightsRejected, match="not a OpenFace state dict: .*missing keys"):
        verify(spec, tmp_path / spec.name, "openface", tmp_path / "f")


def test_the_right_architecture_is_accepted_recorded_and_a_later_change_is_refused(tmp_path):
    """Outcome: first use passes the format check and records the hash; a changed file is refused
    with the recorded and the found hash; deleting the record (the stated fix) accepts the new file."""
    spec = deepid_spec()
    path = write_random_weights("DeepID", tmp_path / "mine" / spec.name)
    first = verify(spec, path, "deepid", tmp_path / "f")
    record = tmp_path / "f" / "verified" / f"{spec.name}.json"
    assert json.loads(record.read_text())["sha256"] == first == sha(path.read_bytes())
    assert verify(spec, path, "deepid", tmp_path / "f") == first
    write_random_weights("DeepID", path, seed=1)  # another training run, same architecture
    with pytest.raises(WeightsRejected) as err:
        verify(spec, path, "deepid", tmp_path / "f")
    msg = str(err.value)
    assert (
        f"expected SHA-256 {first}" in msg
        and f"found {sha(path.read_bytes())}" in msg
        and str(record) in msg
    )
    record.unlink()
    assert verify(spec, path, "deepid", tmp_path / "f") == sha(path.read_bytes())


def test_onnx_graph_with_the_wrong_output_is_refused_and_the_right_one_accepted(tmp_path):
    import torch

    spec = required_files(REGISTRY["sface"], "shared_landmarks")[0]
    good = write_random_weights("SFace", tmp_path / "good" / spec.name)
    assert verify(spec, good, "sface", None)
    bad = tmp_path / "bad" / spec.name
    bad.parent.mkdir()
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 112 * 112, 64)).eval()
    with warnings.catch_warnings():  # the legacy TorchScript exporter needs no onnxscript; it warns
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(net, torch.zeros(1, 3, 112, 112), str(bad), dynamo=False)
    with pytest.raises(WeightsRejected, match=r"output is .*expected \[N, 128\]"):
        verify(spec, bad, "sface", None)
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x07junk")
    with pytest.raises(WeightsRejected, match="not an ONNX graph"):
        verify(WeightFile("junk.onnx"), tmp_path / "junk.onnx", "sface", None)


def test_an_empty_file_is_never_found_as_weights(tmp_path):
    (tmp_path / "model.dat").write_bytes(b"")
    with pytest.raises(WeightsRejected, match="empty"):
        verify(WeightFile("model.dat"), tmp_path / "model.dat", "m", None)
