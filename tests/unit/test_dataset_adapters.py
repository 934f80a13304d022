"""Adapters, downloads, extraction, validation and sampling, without Snakemake and without the internet."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile

import pandas as pd
import pytest
from dataset_fixtures import BUILDERS, EXPECTED, EXPECTED_ISSUES, FileServer, face_jpeg

from maskaudit.datasets.adapters import ADAPTERS, adapter_table, get_adapter
from maskaudit.datasets.build import build_manifest
from maskaudit.datasets.download import Archive, download
from maskaudit.datasets.extract import ExtractError, extract_all
from maskaudit.datasets.gated import ManualDownloadRequired, locate_manual
from maskaudit.datasets.sample import stratified_sample
from maskaudit.datasets.taxonomy import RACES, map_labels
from maskaudit.datasets.validate import SchemaError, check_schema
from maskaudit.fetch import DownloadError


def test_every_adapter_has_a_fixture_and_a_complete_entry():
    assert set(BUILDERS) == set(ADAPTERS)
    for a in ADAPTERS.values():
        assert a.licence and a.licence_url.startswith("http") and a.labels and a.size and a.archives
    table = adapter_table()
    assert all(f"`{name}`" in table for name in ADAPTERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_adapter_reads_its_fixture(name, tmp_path):
    paths = []
    for file, data in BUILDERS[name]().items():
        (tmp_path / "dl" / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "dl" / file).write_bytes(data)
        paths.append(tmp_path / "dl" / file)
    assert {p.name for p in paths} == {a.file for a in get_adapter(name).archives}
    extract_all(paths, tmp_path / "x")
    df, issues = build_manifest(get_adapter(name), tmp_path / "x")
    n_images, n_ids, labels = EXPECTED[name]
    assert len(df) == n_images and df.identity.nunique() == n_ids
    got = df.set_index("image_id")
    for image_id, (gender, race) in labels.items():
        assert (got.at[image_id, "gender"], got.at[image_id, "race"]) == (gender, race), image_id
    assert issues.kind.value_counts().to_dict() == EXPECTED_ISSUES.get(name, {})
    check_schema(df)
    assert (df.licence == get_adapter(name).licence).all()


def test_original_labels_are_kept_next_to_the_taxonomy(tmp_path):
    for file, data in BUILDERS["fairface"]().items():
        (tmp_path / file).write_bytes(data)
    extract_all(sorted(tmp_path.iterdir()), tmp_path / "x")
    df, _ = build_manifest(get_adapter("fairface"), tmp_path / "x")
    row = df.set_index("image_id").loc["train_1"]
    assert (row.race, row.race_original, row.age_bin, row.age, row.split) == (
        "Asian",
        "East Asian",
        "20-29",
        "",
        "train",
    )


def test_fairface_images_are_matched_wherever_the_zip_puts_them(tmp_path):
    import dataset_fixtures as fx

    (tmp_path / "fairface_label_train.csv").write_text(
        "file,age,gender,race,service_test\ntrain/1.jpg,3-9,Male,Indian,True\n"
    )
    (tmp_path / "fairface_label_val.csv").write_text("file,age,gender,race,service_test\n")
    (tmp_path / "imgs.zip").write_bytes(
        fx._zip({"top/train/1.jpg": face_jpeg(1), "top/val/7.jpg": face_jpeg(2)})
    )
    extract_all(sorted(tmp_path.iterdir()), tmp_path / "x")
    df, issues = build_manifest(get_adapter("fairface"), tmp_path / "x")
    got = df.set_index("image_id")
    assert got.at["train_1", "race"] == "Indian" and got.at["val_7", "race"] == "unknown"
    assert issues.kind.tolist() == ["unlabelled_image"]


def test_map_labels_flags_unknown_codes_but_not_missing_values():
    mapped, bad = map_labels(pd.Series(["0", "", "9"]), {"0": "White"}, RACES)
    assert mapped.tolist() == ["White", "unknown", "unknown"] and bad.tolist() == [
        False,
        False,
        True,
    ]
    with pytest.raises(ValueError, match="not in the taxonomy"):
        map_labels(pd.Series(["x"]), {"x": "Caucasian"}, RACES)


def test_schema_lists_bad_rows():
    df = pd.DataFrame(
        {
            "image_id": ["a"],
            "path": ["a.jpg"],
            "identity": ["p"],
            "gender": ["M"],
            "race": ["White"],
            "age": ["x"],
            "source": [""],
            "licence": ["l"],
            "split": [""],
            "gender_original": ["M"],
            "race_original": [""],
        }
    )
    with pytest.raises(SchemaError, match=r"row 2: gender 'M'.*\n.*row 2: age 'x'"):
        check_schema(df)


# --- downloads -------------------------------------------------------------------------------------

BLOB = bytes(range(256)) * 4000  # ~1 MB


def _archive(server, name="blob.bin", data=BLOB, **kw):
    return Archive(
        name,
        server.url + name,
        checksum="sha256:" + hashlib.sha256(data).hexdigest(),
        size=len(data),
        **kw,
    )


def test_truncated_download_resumes_with_range(tmp_path):
    with FileServer({"blob.bin": BLOB}, truncate={"blob.bin"}) as srv:
        record = download(_archive(srv), tmp_path / "blob.bin", backoff=0, block=4096)
    assert (tmp_path / "blob.bin").read_bytes() == BLOB and not (
        tmp_path / "blob.bin.part"
    ).exists()
    assert srv.requests[0] == ("blob.bin", None)
    assert srv.requests[1] == ("blob.bin", f"bytes={len(BLOB) // 2}-")
    assert record["sha256"] == hashlib.sha256(BLOB).hexdigest() and record["pinned"]


def test_download_resumes_a_part_left_by_an_earlier_run(tmp_path):
    (tmp_path / "blob.bin.part").write_bytes(BLOB[:1000])
    with FileServer({"blob.bin": BLOB}) as srv:
        download(_archive(srv), tmp_path / "blob.bin", backoff=0)
    assert srv.requests == [("blob.bin", "bytes=1000-")]
    assert (tmp_path / "blob.bin").read_bytes() == BLOB


def test_bad_checksum_is_rejected_and_never_renamed(tmp_path):
    with FileServer({"blob.bin": BLOB}) as srv:
        bad = Archive("blob.bin", srv.url + "blob.bin", checksum="sha256:" + "0" * 64)
        with pytest.raises(
            DownloadError, match="sha256 .* expected 0000.*moved to .*blob.bin.rejected"
        ):
            download(bad, tmp_path / "blob.bin", backoff=0)
    assert not (tmp_path / "blob.bin").exists() and (tmp_path / "blob.bin.rejected").exists()


def test_unpinned_archive_records_its_checksum(tmp_path):
    with FileServer({"blob.bin": BLOB}) as srv:
        record = download(
            Archive("blob.bin", srv.url + "blob.bin"), tmp_path / "blob.bin", backoff=0
        )
    assert record["pinned"] is False and record["sha256"] == hashlib.sha256(BLOB).hexdigest()
    assert record["size"] == len(BLOB)


def test_a_local_copy_is_taken_through_a_file_url_and_still_verified(tmp_path):
    (tmp_path / "copy.bin").write_bytes(BLOB)
    good = Archive(
        "blob.bin",
        (tmp_path / "copy.bin").as_uri(),
        checksum="sha256:" + hashlib.sha256(BLOB).hexdigest(),
    )
    assert download(good, tmp_path / "dl" / "blob.bin", backoff=0)["pinned"]
    bad = Archive("blob.bin", (tmp_path / "copy.bin").as_uri(), checksum="md5:" + "0" * 32)
    with pytest.raises(DownloadError, match="md5"):
        download(bad, tmp_path / "dl2" / "blob.bin", backoff=0)


def test_http_404_stops_at_once(tmp_path):
    with FileServer({}) as srv:
        with pytest.raises(DownloadError, match="HTTP 404"):
            download(Archive("nope.zip", srv.url + "nope.zip"), tmp_path / "nope.zip", backoff=0)
    assert len(srv.requests) == 1


def test_missing_gated_archive_says_what_where_and_which_licence(tmp_path):
    a = get_adapter("rfw")
    with pytest.raises(ManualDownloadRequired) as err:
        locate_manual(
            a.archives[0],
            "rfw",
            tmp_path / "manual",
            title=a.title,
            licence=a.licence,
            licence_url=a.licence_url,
            how=a.how,
        )
    msg = str(err.value)
    assert (
        "test.tar.gz" in msg
        and a.licence_url in msg
        and str(tmp_path / "manual" / "rfw" / "test.tar.gz") in msg
    )


def test_extraction_refuses_paths_leaving_the_folder(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.jpg", face_jpeg(1))
    (tmp_path / "bad.zip").write_bytes(buf.getvalue())
    with pytest.raises(ExtractError, match="refusing member path"):
        extract_all([tmp_path / "bad.zip"], tmp_path / "x")
    assert not (tmp_path / "evil.jpg").exists()
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:gz") as tf:
        info = tarfile.TarInfo("/abs.jpg")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    (tmp_path / "bad.tgz").write_bytes(tar.getvalue())
    with pytest.raises(ExtractError):
        extract_all([tmp_path / "bad.tgz"], tmp_path / "y")


# --- sampling --------------------------------------------------------------------------------------


def _population():
    rows = []
    for g, r, n_ids, per in (
        ("female", "Black", 6, 3),
        ("male", "Black", 2, 2),
        ("female", "White", 10, 1),
        ("male", "White", 4, 5),
    ):
        for i in range(n_ids):
            for k in range(per):
                rows.append(
                    {
                        "image_id": f"{g}_{r}_{i}_{k}",
                        "identity": f"{g}_{r}_{i}",
                        "gender": g,
                        "race": r,
                    }
                )
    return pd.DataFrame(rows)


def test_sample_balances_cells_keeps_identities_whole_and_is_seeded():
    df = _population()
    s1, cells = stratified_sample(df, seed=7, dataset="d", images_per_cell=6)
    s2, _ = stratified_sample(df, seed=7, dataset="d", images_per_cell=6)
    s3, _ = stratified_sample(df, seed=8, dataset="d", images_per_cell=6)
    assert s1.equals(s2) and not s1.equals(s3)
    full = df.groupby("identity").size()
    assert (s1.groupby("identity").size() == full[s1.identity.unique()]).all()  # whole identities
    c = cells.set_index(["gender", "race"])
    assert (
        c.at[("female", "Black"), "sampled_images"] == 6
        and c.at[("female", "White"), "sampled_images"] == 6
    )
    # all there is
    assert (
        c.at[("male", "Black"), "sampled_images"] == 4 and c.at[("male", "Black"), "short_by"] == 2
    )
    # two whole identities of 5: overshoots, never splits
    assert c.at[("male", "White"), "sampled_images"] == 10
    assert c.at[("female", "Black"), "identities_with_2plus_images"] == 2
    assert c.at[("female", "White"), "identities_with_2plus_images"] == 0


def test_sample_identity_filters():
    df = _population()
    s, cells = stratified_sample(
        df, seed=1, dataset="d", min_images_per_identity=2, max_images_per_identity=2
    )
    assert "female/White" not in set(s.gender + "/" + s.race)
    assert s.groupby("identity").size().max() == 2
    assert cells.sampled_images.sum() == len(s)


def test_config_readme_lists_every_adapter_as_generated():
    from conftest import REPO

    assert adapter_table() in (REPO / "config/README.md").read_text()
