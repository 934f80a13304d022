"""Randomly initialised weights for deepface's models, saved under the exact file names deepface loads.

For the PyTorch engine the networks are deepface's own classes (the architecture deepface builds
before loading a file), seeded so the files are identical on every run. SFace is an ONNX graph that
deepface hands to onnxruntime; deepface has no architecture for it, so a small graph with SFace's
input (1x3x112x112) and output (128) stands in, exported with torch.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import torch

PT = "deepface.models.facial_recognition.pytorch."
ARCHITECTURES = {  # deepface name -> (module, builder) of the network deepface loads the file into
    "VGG-Face": (PT + "VGGFace", lambda m: m.base_model()),
    "Facenet": (PT + "Facenet", lambda m: m.InceptionResNetV1()),
    "Facenet512": (PT + "Facenet", lambda m: m.InceptionResNetV1(dimension=512)),
    "OpenFace": (PT + "OpenFace", lambda m: m.OpenFaceNet()),
    "DeepFace": (PT + "FbDeepFace", lambda m: m.DeepFaceNet()),
    "DeepID": (PT + "DeepID", lambda m: m.DeepIdNet()),
    "ArcFace": (PT + "ArcFace", lambda m: m.base_model()),
}


def write_random_weights(deepface_name: str, path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if deepface_name == "SFace":
        net = torch.nn.Sequential(
            torch.nn.Conv2d(3, 16, 3, stride=2),
            torch.nn.PReLU(16),
            torch.nn.Conv2d(16, 32, 3, stride=2),
            torch.nn.AdaptiveAvgPool2d(1),
            torch.nn.Flatten(),
            torch.nn.Linear(32, 128),
        ).eval()
        # the TorchScript exporter needs no onnxscript; it warns that it is legacy
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                net,
                torch.zeros(1, 3, 112, 112),
                str(path),
                dynamo=False,
                input_names=["data"],
                output_names=["fc1"],
            )
        return path
    module, build = ARCHITECTURES[deepface_name]
    net = build(importlib.import_module(module))
    torch.save(net.state_dict(), path)
    return path
