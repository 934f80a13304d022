"""The comparison protocol: what is compared with what, and the score files it writes.

Three comparisons are kept apart everywhere (files, tables, figures); they are never pooled.

``reidentification``
    each probe (a masked image; for variant ``none`` the unmasked image itself) against its own
    unmasked original. Genuine by construction; the study's task. Reported as a rate per group.
``verification``
    genuine = the probe against the *other* unmasked photos of the same identity (near-duplicate
    photos excluded, see :mod:`maskaudit.protocol.near_duplicates`); impostors = every non-mated
    probe x reference score of the full probe x gallery matrix, except pairs flagged as the same
    picture under two identities (``duplicates_across`` in the protocol's image table). In the
    baseline (``none``) a pair of
    unmasked photos is one comparison, so each unordered pair is counted once (``i < j`` in gallery
    order), for mated and non-mated pairs alike.
``identification``
    each probe searched against the unmasked gallery, candidates ranked **by identity** (an
    identity's score is its best gallery score). The probe's own original and its near-duplicates
    are left out of the gallery unless ``protocol.include_self`` is true. Open-set: a seeded share of
    identities is held out of the gallery; their probes are non-mated searches.

Score scale (one for every system)
    ``score`` is a similarity, higher = more alike; thresholds are similarities too and a
    comparison is accepted iff ``score >= threshold`` (ties accept). Embedding models: similarity =
    ``-distance`` (Euclidean) or the cosine similarity ``1 - cosine distance`` (cosine). Comparison-only
    systems (vendors) deliver similarities directly. ``raw_score`` and ``raw_direction``
    (``lower_is_same`` for distances, ``higher_is_same`` for confidences) sit beside each score, and
    ``threshold_raw`` beside each threshold.

Inputs. An embedding model (card ``kind="embedding"``) is scored from its caches
``results/embeddings/{model}/{dataset}/{variant}.npz`` (probes) and ``.../none.npz`` (gallery). A
comparison-only system (card ``kind="comparison"``) is scored from
``results/comparisons/{model}/{dataset}/{variant}.npz`` (``probe_id``, ``gallery_id``, ``similarity``
float32 (P, G) with NaN = not compared, ``probe_status``, ``gallery_status``) and its JSON sidecar.
Both become a :class:`maskaudit.protocol.sources.SimilaritySource`, so one code path scores both.

Failure to acquire (ISO/IEC 19795-1 accounting). A status other than ``ok`` is a reason string; its origin is its
prefix (:func:`maskaudit.protocol.fta.fta_origin`): ``model_*``, ``vendor_*``, ``mask_*``, else
``dataset`` (detection and reading). A failed comparison has ``score`` NaN and is never counted
as correct: rates are reported acquired only and at system level (ISO/IEC 19795-1: ``model_*`` /
``vendor_*`` failures are the system's errors, ``dataset`` / ``mask_*`` failures the pipeline's and no
trials; a pipeline failure on either side of a comparison takes precedence,
:func:`maskaudit.protocol.fta.pair_failure`).

Score files per (model, dataset, variant), under ``results/scores/{model}/{dataset}/{variant}/``:

``reidentification.tsv`` / ``verification.tsv`` (one row per comparison; ``verification.tsv``
    holds the mated pairs, plus near-duplicate pairs with ``comparison=near_duplicate`` that no
    metric counts): ``probe_id, ref_id, comparison, probe_subject, probe_gender, probe_race,
    probe_age, ref_subject, ref_gender, ref_race, ref_age, probe_mask, mask_kind, mask_colour,
    ref_mask, score, raw_score, raw_direction, threshold, threshold_raw, decision, fta_reason,
    fta_origin, fta_side``. ``decision`` is ``match`` / ``non_match`` at the system's own threshold,
    or ``fta``.
``identification.tsv`` (one row per probe): closed-set ``search`` (``mated`` when the gallery holds
    another enrolled photo of the probe's identity, ``mated_unenrolled`` when it holds others but none
    was enrolled, with ``unenrolled_charge`` = ``system`` or ``pipeline``, else ``non_mated``),
    ``mate_rank`` (1 + identities other
    than the probe's scoring >= its mate's best score; ties count against the probe; NaN when the
    probe failed or no mate was scored), ``mate_score``, ``best_nonmate_score``, the top-k
    identities and scores (``;``-joined), and the open-set columns ``open_search``,
    ``open_mate_rank``, ``open_mate_score``, ``open_best_nonmate_score``. A comparison-only system
    adds ``identification_source`` (``search_similarity``: the vendor's own search; ``similarity``:
    the full 1:1 matrix; ``not_run``) and ``identification_reason``; when 1:N was not run, ``search``
    and ``open_search`` are ``not_run`` and every rank and score is NaN (neither hit nor miss).
``impostors.npz``: identity-pair sufficient statistics of all non-mated comparisons:
    ``identity`` (n,), ``probe_identity`` (P,) / ``gallery_identity`` (G,) codes into it,
    ``trials`` / ``failures`` (n, n) acquired and failed comparisons of probe
    identity a x reference identity b, ``failures_system`` (n, n) the failed ones charged to the system
    (no pipeline failure on either side), ``calibration`` (n,) identities of the calibration split,
    ``score_sum`` / ``score_count`` (n, n) similarity sums over
    all scored comparisons (mated included, self pairs excluded; for the subject x subject matrix),
    the global thresholds ``threshold_name`` / ``threshold_value`` and, per threshold, the sparse
    false-match counts ``fm_threshold``, ``fm_probe``, ``fm_ref``, ``fm_count``, and a seeded
    sample of impostor scores (``sample_probe``, ``sample_ref``, ``sample_score``,
    ``sample_fraction``; every impostor when they number at most ``protocol.impostor_sample``).
"""

COMPARISONS = ("reidentification", "verification", "identification")
