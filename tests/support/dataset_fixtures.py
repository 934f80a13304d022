"""Tiny archives in each dataset's real layout and label format, and a loopback HTTP server.

Images are drawn at run time (a plain cartoon face per seed); nothing here is a real photograph and
nothing is committed. Each builder returns ``{file name: bytes}`` for the adapter's archives plus
the facts a test checks.
"""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
import zipfile

import numpy as np
from PIL import Image, ImageDraw


def face_jpeg(seed: int, size: int = 48) -> bytes:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(120, 255, 3)))
    d = ImageDraw.Draw(img)
    skin = tuple(int(v) for v in rng.integers(60, 240, 3))
    d.ellipse([size * 0.2, size * 0.1, size * 0.8, size * 0.9], fill=skin)
    for x in (0.37, 0.63):
        d.ellipse(
            [size * (x - 0.05), size * 0.38, size * (x + 0.05), size * 0.46], fill=(30, 30, 30)
        )
    d.arc(
        [size * 0.35, size * 0.55, size * 0.65, size * 0.75], 20, 160, fill=(120, 20, 20), width=2
    )
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _imgs(names, start=0) -> dict[str, bytes]:
    return {n: face_jpeg(start + i) for i, n in enumerate(names)}


def fairface():
    train_csv = (
        "file,age,gender,race,service_test\n"
        "train/1.jpg,20-29,Male,East Asian,True\n"
        "train/2.jpg,3-9,Female,Latino_Hispanic,False\n"
        "train/3.jpg,50-59,Male,White,False\n"
    )  # no image: missing_file
    val_csv = (
        "file,age,gender,race,service_test\n"
        "val/1.jpg,more than 70,Female,Martian,True\n"  # unknown race code
        "val/2.jpg,30-39,Male,Southeast Asian,False\n"
    )
    return {
        "fairface-img-margin025-trainval.zip": _zip(
            _imgs(["train/1.jpg", "train/2.jpg", "val/1.jpg", "val/2.jpg"])
        ),
        "fairface_label_train.csv": train_csv.encode(),
        "fairface_label_val.csv": val_csv.encode(),
    }


def utkface():
    files = _imgs(
        [
            "UTKFace/25_0_1_20170116174525125.jpg.chip.jpg",
            "UTKFace/3_1_4_20161219140623097.jpg.chip.jpg",
            "UTKFace/39_1_20170116174525125.jpg.chip.jpg",
            "UTKFace/40_0_7_20170116174525126.jpg.chip.jpg",
        ],
        10,
    )
    # truncated: unreadable
    files["UTKFace/50_1_0_20170116174525127.jpg.chip.jpg"] = face_jpeg(15)[:40]
    return {"UTKFace.tar.gz": _tgz(files)}


LFW_ATTRS = (
    "# LFW attributes file, generated for a test\n"
    "#\tperson\timagenum\tMale\tAsian\tWhite\tBlack\tBaby\tIndian\n"
    "Aaron Eckhart\t1\t1.568346\t-1.889043\t1.737203\t-0.929729\t-1.471799\t-0.5\n"
    "Ann Veneman\t1\t-1.2\t-0.4\t0.8\t-1.1\t-1.0\t-0.9\n"
    "Ann Veneman\t2\t-0.5\t-0.4\t-0.1\t-1.1\t-1.0\t-0.9\n"
    "Ghost Person\t1\t1.0\t0.3\t-0.3\t-1.0\t-1.0\t-1.0\n"
)


def lfw():
    files = _imgs(
        [
            "lfw-deepfunneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
            "lfw-deepfunneled/Ann_Veneman/Ann_Veneman_0001.jpg",
            "lfw-deepfunneled/Ann_Veneman/Ann_Veneman_0002.jpg",
            "lfw-deepfunneled/Zico/Zico_0001.jpg",
        ],
        20,
    )
    return {"lfw-deepfunneled.tgz": _tgz(files), "lfw_attributes.txt": LFW_ATTRS.encode()}


def celeba():
    return {
        "img_align_celeba.zip": _zip(
            _imgs([f"img_align_celeba/00000{i}.jpg" for i in (1, 2, 3, 4)], 30)
        ),
        "identity_CelebA.txt": b"000001.jpg 2880\n000002.jpg 2937\n000003.jpg 2880\n000004.jpg 9999\n000005.jpg 1\n",
        "list_attr_celeba.txt": (
            b"5\n5_o_Clock_Shadow Arched_Eyebrows Male Young\n"
            b"000001.jpg -1  1 -1  1\n000002.jpg  1 -1  1  1\n000003.jpg -1  1 -1 -1\n"
            b"000004.jpg -1 -1  0  1\n000005.jpg -1 -1  1  1\n"
        ),
        "list_eval_partition.txt": b"000001.jpg 0\n000002.jpg 0\n000003.jpg 1\n000004.jpg 2\n000005.jpg 2\n",
    }


def cfd_workbook() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "CFD U.S. Norming Data"
    for r in range(1, 7):
        ws.cell(row=r, column=1, value=f"Chicago Face Database norming data, preamble line {r}")
    ws.append(["VarID", "V001", "V002", "V003", "V004"])  # row 7: variable ids
    # row 8: names
    ws.append(["Model", "EthnicitySelf", "GenderSelf", "AgeSelf", "LuminanceMedian"])
    ws.append([None, None, None, None, None])  # row 9: blank under the header
    ws.append(["AF-200", "A", "F", 29.5, 132.5])
    ws.append(["BM-001", "B", "M", 31.0, 88.0])
    ws.append(["LF-210", "X", "F", 24.0, 120.25])  # unknown ethnicity code
    ws2 = wb.create_sheet("CFD-MR U.S. Norming Data")
    for r in range(1, 8):
        ws2.cell(row=r, column=1, value="preamble")
    ws2.append(["Model", "EthnicitySelf", "GenderSelf", "AgeSelf", "LuminanceMedian"])
    ws2.append([None] * 5)
    ws2.append(["MM-300", "M", "M", 22.0, 101.0])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def cfd():
    base = "CFD Version 3.0/Images/"
    files = _imgs(
        [
            base + "CFD/AF-200/CFD-AF-200-228-N.jpg",
            base + "CFD/AF-200/CFD-AF-200-228-HC.jpg",
            base + "CFD/BM-001/CFD-BM-001-014-N.jpg",
            base + "CFD/LF-210/CFD-LF-210-001-N.jpg",
            base + "CFD/WM-040/CFD-WM-040-022-N.jpg",
            base + "CFD-MR/MM-300/CFD-MM-300-001-N.jpg",
        ],
        40,
    )
    files["CFD Version 3.0/CFD 3.0 Norming Data and Codebook.xlsx"] = cfd_workbook()
    return {"CFD Version 3.0.zip": _zip(files)}


def bfw():
    base = "Users/jrobby/bfw/bfw-cropped-aligned/"
    files = _imgs(
        [
            base + "asian_females/n000009/0001_01.jpg",
            base + "asian_females/n000009/0002_01.jpg",
            base + "black_males/n000123/0001_01.jpg",
            base + "white_males/n000200/0001_01.jpg",
            base + "indian_females/n000300/0004_02.jpg",
        ],
        50,
    )
    files["bfw-v0.1.5-datatable.csv"] = (
        b"fold,p1,p2,label\n1,asian_females/n000009/0001_01.jpg,asian_females/n000009/0002_01.jpg,1\n"
    )
    return {"BFW-Release.zip": _zip(files)}


def rfw():
    files = _imgs(
        [
            "test/data/African/m.0abc/m.0abc_0001.jpg",
            "test/data/African/m.0abc/m.0abc_0002.jpg",
            "test/data/Caucasian/m.0xyz/m.0xyz_0001.jpg",
            "test/data/Indian/m.0ind/m.0ind_0003.jpg",
        ],
        60,
    )
    files["test/txts/African/African_pairs.txt"] = b"m.0abc\t1\t2\n"
    return {"test.tar.gz": _tgz(files)}


def fei_frontal():
    return {
        "frontalimages_manuallyaligned_part1.zip": _zip(_imgs(["1a.jpg", "1b.jpg", "2a.jpg"], 70)),
        "frontalimages_manuallyaligned_part2.zip": _zip(_imgs(["101a.jpg", "101b.jpg"], 75)),
    }


def fei_original():
    return {
        "originalimages_part1.zip": _zip(_imgs(["1-01.jpg", "1-02.jpg"], 80)),
        "originalimages_part2.zip": _zip(_imgs(["51-01.jpg"], 82)),
        "originalimages_part3.zip": _zip(_imgs(["101-14.jpg"], 83)),
        "originalimages_part4.zip": _zip(_imgs(["151-03.jpg", "thumbs.db.jpg"], 84)),
    }


def georgia_tech():
    return {
        "gt_db.zip": _zip(_imgs(["gt_db/s01/01.jpg", "gt_db/s01/02.jpg", "gt_db/s02/01.jpg"], 90))
    }


def sof():
    files = _imgs(
        [
            "original images/AbdA_00005_m_31_i_fr_nc_hp_2016_2_e0_nl_o.jpg",
            "original images/AbdA_00013_m_31_i_fr_nc_sr_2016_2_e0_nl_o.jpg",
            "original images/ZenH_02661_f_25_o_nf_nc_no_2015_1_e0_nl_o.jpg",
            "original images/bad_name.jpg",
        ],
        100,
    )
    return {"original images.zip": _zip(files)}


def youtube_faces():
    files = _imgs(
        [
            "YouTubeFaces/frame_images_DB/Aaron_Eckhart/0/0.555.jpg",
            "YouTubeFaces/frame_images_DB/Aaron_Eckhart/0/0.556.jpg",
            "YouTubeFaces/frame_images_DB/Alicia_Witt/5/5.2247.jpg",
        ],
        110,
    )
    files["YouTubeFaces/frame_images_DB/Aaron_Eckhart.labeled_faces.txt"] = (
        b"0\\0.555.jpg,0,120,80,60,60,0,0\n"
    )
    return {"YouTubeFaces.tar.gz": _tgz(files)}


def mlfw():
    files = _imgs(
        [
            "MLFW/aligned/Aaron_Peirsol_0001_0000.jpg",
            "MLFW/aligned/Aaron_Peirsol_0002_0001.jpg",
            "MLFW/aligned/Abel_Pacheco_0001_0002.jpg",
        ],
        120,
    )
    files["MLFW/pairs.txt"] = b"Aaron_Peirsol_0001_0000.jpg Aaron_Peirsol_0002_0001.jpg 1\n"
    return {"MLFW.zip": _zip(files)}


BUILDERS = {
    "fairface": fairface,
    "utkface": utkface,
    "lfw": lfw,
    "celeba": celeba,
    "cfd": cfd,
    "bfw": bfw,
    "rfw": rfw,
    "fei_frontal": fei_frontal,
    "fei_original": fei_original,
    "georgia_tech": georgia_tech,
    "sof": sof,
    "youtube_faces": youtube_faces,
    "mlfw": mlfw,
}

# What each fixture must become: image count, identities, and some labels (image_id -> (gender, race)).
EXPECTED = {
    "fairface": (
        4,
        4,
        {
            "train_1": ("male", "Asian"),
            "train_2": ("female", "Latino"),
            "val_1": ("female", "unknown"),
            "val_2": ("male", "Asian"),
        },
    ),
    "utkface": (
        5,
        5,
        {
            "25_0_1_20170116174525125": ("male", "Black"),
            "3_1_4_20161219140623097": ("female", "Other"),
            "39_1_20170116174525125": ("unknown", "unknown"),
            "40_0_7_20170116174525126": ("male", "unknown"),
        },
    ),
    "lfw": (
        4,
        3,
        {
            "Aaron_Eckhart_0001": ("male", "White"),
            "Ann_Veneman_0001": ("female", "White"),
            "Ann_Veneman_0002": ("female", "unknown"),
            "Zico_0001": ("unknown", "unknown"),
        },
    ),
    "celeba": (
        4,
        3,
        {
            "000001": ("female", "unknown"),
            "000002": ("male", "unknown"),
            "000004": ("unknown", "unknown"),
        },
    ),
    "cfd": (
        6,
        5,
        {
            "CFD-AF-200-228-N": ("female", "Asian"),
            "CFD-BM-001-014-N": ("male", "Black"),
            "CFD-LF-210-001-N": ("female", "unknown"),
            "CFD-WM-040-022-N": ("male", "White"),
            "CFD-MM-300-001-N": ("male", "Multiracial"),
        },
    ),
    "bfw": (
        5,
        4,
        {
            "asian_females_n000009_0001_01": ("female", "Asian"),
            "black_males_n000123_0001_01": ("male", "Black"),
        },
    ),
    "rfw": (
        4,
        3,
        {
            "African_m.0abc_0001": ("unknown", "Black"),
            "Caucasian_m.0xyz_0001": ("unknown", "White"),
        },
    ),
    "fei_frontal": (5, 3, {"fei_1a": ("unknown", "unknown")}),
    "fei_original": (5, 4, {"fei_1-01": ("unknown", "unknown")}),
    "georgia_tech": (3, 2, {"s01_01": ("unknown", "unknown")}),
    "sof": (
        3,
        2,
        {
            "AbdA_00005_m_31_i_fr_nc_hp_2016_2_e0_nl_o": ("male", "unknown"),
            "ZenH_02661_f_25_o_nf_nc_no_2015_1_e0_nl_o": ("female", "unknown"),
        },
    ),
    "youtube_faces": (3, 2, {"Aaron_Eckhart_0.555": ("unknown", "unknown")}),
    "mlfw": (3, 2, {"Aaron_Peirsol_0001_0000": ("unknown", "unknown")}),
}
# Issues each fixture must report (kind -> count).
EXPECTED_ISSUES = {
    "fairface": {"missing_file": 1, "unknown_label_code": 1},
    "utkface": {"unparsable_name": 1, "unknown_label_code": 1, "unreadable": 1},
    "lfw": {"unlabelled_image": 1, "missing_file": 1},
    "celeba": {"missing_file": 1, "unknown_label_code": 1},
    "cfd": {"unknown_label_code": 1, "unlabelled_image": 1},
    "fei_original": {"unparsable_name": 1},
    "sof": {"unparsable_name": 1},
}


class FileServer:
    """A loopback HTTP/1.1 server for ``{path: bytes}`` that honours ``Range: bytes=N-``.

    ``truncate`` names paths whose first full (non-Range) response announces the whole length but
    stops after half the bytes and closes the connection, like a dropped download. ``requests`` logs
    ``(path, range header)`` for every request.
    """

    def __init__(self, files: dict[str, bytes], truncate: set[str] = frozenset()):
        self.files, self.truncate, self.requests = dict(files), set(truncate), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.lstrip("/")
                rng = self.headers.get("Range")
                server.requests.append((path, rng))
                data = server.files.get(path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if path in server.truncate and not rng:
                    server.truncate.discard(path)
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
