"""Explanations: where a face-recognition system looks, with and without a mask.

The target of every map is the similarity between the explained face and its **unmasked
reference**: the embedding of the same photo without a mask (the re-identification reference of the
study). Gradient methods explain ``T(x) = <f(x), r / |r|>`` (the cosine similarity times ``|f(x)|``:
the cosine's own gradient vanishes on the unmasked photo, which is its own reference); black-box
methods explain ``cos(f(x), r)``.

Modules:

* :mod:`~maskaudit.explain.methods`: Grad-CAM, Grad-CAM++, Smooth Grad-CAM++ and SmoothGrad on a
  PyTorch network; occlusion and RISE on any batched score function.
* :mod:`~maskaudit.explain.geometry`: maps from the model's input back to the stored image (the
  inverse of the model's own alignment, measured by passing coordinate ramps through it).
* :mod:`~maskaudit.explain.regions`: the five face regions from the 68 landmarks and region shares.
* :mod:`~maskaudit.explain.result`: the per-photo arrays of one job, shared by every kind of system.
* :mod:`~maskaudit.explain.run`: explaining a sample of a dataset's images with one system.
* :mod:`~maskaudit.explain.vendor`: occlusion and RISE maps of the commercial APIs through their 1:1
  compare (target: the vendor's score with the unmasked original), within the vendor cache and caps.
* :mod:`~maskaudit.explain.attention`: the attention-shift measure, identity-bootstrap intervals
  and group contrasts.
* :mod:`~maskaudit.explain.figures`: overlay grid, mean maps on a template, forest plot.
"""

REGIONS = ("eyes_brows", "nose", "mouth", "jaw_cheeks", "outside")
GRADIENT_METHODS = ("gradcam", "gradcampp", "smooth_gradcampp", "smoothgrad")
BLACK_BOX_METHODS = ("occlusion", "rise")
METHODS = GRADIENT_METHODS + BLACK_BOX_METHODS
