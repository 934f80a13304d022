"""Score one (system, dataset, variant) in probe chunks: nothing quadratic is held or looped in Python.

Each chunk is a float32 ``(chunk, G)`` similarity block (columns in identity order). From it the
pass takes the re-identification scores, the mated scores, the identity-level 1:N search (closed
and open set), and the identity-pair sufficient statistics of every non-mated comparison (trials,
failures, false matches at each global threshold, similarity sums) plus a seeded impostor sample.
Peak memory is a few blocks plus ``O(n_identities^2)`` accumulators.

The 1:N search reads the block the source's ``identification`` names: the same similarity block
(every embedding model; a vendor whose full 1:1 matrix was compared), a separate block of the
vendor's own search answers with their own statuses (``search_similarity``), or nothing
(``not_run``: every search is reported as ``not_run`` with NaN ranks, never a hit or a miss).
Failed impostor comparisons are counted only over the cells the system was asked to compare
(``source.planned``; every cell when None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from maskaudit.protocol.fta import OK, charges
from maskaudit.protocol.identification import identity_best, search
from maskaudit.protocol.layout import Layout
from maskaudit.protocol.pairs import excluded_pairs, mated_pairs, pair_keys
from maskaudit.seeding import rng_for


@dataclass
class ScoreOptions:
    include_self: bool = False
    rank_k: int = 5
    chunk: int = 1024
    impostor_sample: int = 1_000_000
    sample_seed: tuple = (0,)
    held_out: frozenset = frozenset()  # identities (strings) out of the open-set gallery
    thresholds: dict = field(default_factory=dict)  # name -> similarity; NaN ones are skipped
    tail_k: int = 0  # keep the tail_k highest impostor scores (thresholds)
    # image id -> images of other identities that are the same picture: no impostor, no 1:N candidate
    cross_duplicates: dict = field(default_factory=dict)
    # identities (strings) that fix the thresholds when the calibration split is on (empty: everyone);
    # the tail, n_impostor and the reference searches then use only them (maskaudit.protocol.calibration)
    calibration: frozenset = frozenset()


def probe_order(layout: Layout) -> np.ndarray:
    """Probes in identity order (stable): a chunk's rows then hold whole runs of one identity, so
    per-identity sums over rows are one ``reduceat`` instead of a scatter-add."""
    return np.argsort(layout.probe_ident, kind="stable")


def iter_blocks(source, layout: Layout, chunk: int):
    """Yield ``(r0, rows, block)``: the chunk's start in probe order, its probe indices and their
    float32 similarities to the gallery in identity order; failed probes and gallery images are NaN."""
    order = probe_order(layout)
    bad_cols = ~layout.gallery_ok[layout.order]
    for r0 in range(0, order.size, max(1, chunk)):
        rows = order[r0 : r0 + chunk]
        block = np.array(source.block(rows, layout.order), dtype=np.float32, copy=True)
        block[~layout.probe_ok[rows]] = np.nan
        block[:, bad_cols] = np.nan
        yield r0, rows, block


def _ranked_keys(keys: np.ndarray, rank: np.ndarray, n_g: int) -> np.ndarray:
    """``probe * G + gallery`` keys re-expressed as ``rank[probe] * G + gallery``, sorted."""
    return np.sort(rank[keys // n_g] * n_g + keys % n_g) if keys.size else keys


def _keys_in(keys: np.ndarray, r0: int, r1: int, n_g: int) -> np.ndarray:
    lo, hi = np.searchsorted(keys, [r0 * n_g, r1 * n_g])
    return keys[lo:hi]


def _blank(block, keys, r0, r1, layout, n_g):
    """Copy of ``block`` with the ranked (probe, gallery) keys of rows ``r0:r1`` set to NaN."""
    sel = _keys_in(keys, r0, r1, n_g)
    if sel.size == 0:
        return block
    out = block.copy()
    out[sel // n_g - r0, layout.position[sel % n_g]] = np.nan
    return out


def block_sums(values: np.ndarray, starts: np.ndarray, dtype) -> np.ndarray:
    """Row-wise sums over column blocks beginning at ``starts`` (cumulative-sum differences)."""
    cs = np.zeros((values.shape[0], values.shape[1] + 1), dtype=dtype)
    np.cumsum(values, axis=1, dtype=dtype, out=cs[:, 1:])
    ends = np.r_[starts[1:], values.shape[1]]
    return cs[:, ends] - cs[:, starts]


class _PairCounts:
    """Identity-pair accumulators (probe identity x gallery block)."""

    def __init__(self, layout: Layout, names):
        n, b = layout.n_identities, layout.block_starts.size
        self.layout = layout
        # int32: < 2^31 comparisons per identity pair
        self.trials = np.zeros((n, b), dtype=np.int32)
        self.failures = np.zeros((n, b), dtype=np.int32)
        self.failures_system = np.zeros((n, b), dtype=np.int32)  # neither side a pipeline failure
        self.score_sum = np.zeros((n, b), dtype=np.float64)
        self.score_count = np.zeros((n, b), dtype=np.int32)
        self.names = list(names)
        self.fm = [[] for _ in self.names]

    def _reduce(self, values, dtype=np.int32):
        """``(c, B)`` per-gallery-identity sums of each row."""
        starts = self.layout.block_starts
        if not starts.size:
            return np.zeros((values.shape[0], 0), dtype=dtype)
        return block_sums(values, starts, dtype)

    def _accumulate(self, acc, pid, per_row):
        """``acc[pid[i]] += per_row[i]``; ``pid`` is sorted (rows come in identity order)."""
        first = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        acc[pid[first]] += np.add.reduceat(per_row, first, axis=0).astype(acc.dtype, copy=False)

    def add(self, rows, block, acquired, valid, nonmated, counted, thresholds, planned=None):
        pid = self.layout.probe_ident[rows]
        self._accumulate(self.trials, pid, self._reduce(valid))
        row_bad = ~self.layout.probe_ok[rows]
        col_bad = ~self.layout.gallery_ok[self.layout.order]
        if row_bad.any() or col_bad.any():
            failed = (row_bad[:, None] | col_bad[None, :]) & nonmated
            # a comparison-only system: only the cells it was asked to compare
            if planned is not None:
                failed &= planned
            self._accumulate(self.failures, pid, self._reduce(failed))
            lay = self.layout
            row_sys, col_sys = lay.probe_system_failed[rows], lay.gallery_system_failed[lay.order]
            row_pipe, col_pipe = row_bad & ~row_sys, col_bad & ~col_sys
            system = (
                failed
                & (row_sys[:, None] | col_sys[None, :])
                & ~(row_pipe[:, None] | col_pipe[None, :])
            )
            self._accumulate(self.failures_system, pid, self._reduce(system))
        scored = acquired & counted
        self._accumulate(self.score_sum, pid, self._reduce(np.where(scored, block, 0), np.float64))
        self._accumulate(self.score_count, pid, self._reduce(scored))
        for k, t in enumerate(thresholds):
            hit = valid & (block >= t)
            r, c = np.nonzero(hit)
            if r.size:  # sparse: only the pairs that matched
                key = (
                    pid[r] * self.layout.block_starts.size
                    + np.searchsorted(self.layout.block_starts, c, side="right")
                    - 1
                )
                uniq, cnt = np.unique(key, return_counts=True)
                n_b = self.layout.block_starts.size
                self.fm[k].append((uniq // n_b, uniq % n_b, cnt))

    def arrays(self) -> dict:
        """Square ``(n_id, n_id)`` matrices (probe identity x reference identity) and sparse false matches."""
        lay, n = self.layout, self.layout.n_identities

        def square(m):
            # every identity has gallery images: already square, no copy
            if lay.block_ident.size == n:
                return m
            out = np.zeros((n, n), dtype=m.dtype)
            out[:, lay.block_ident] = m
            return out

        fm_t, fm_p, fm_r, fm_c = [], [], [], []
        for k, parts in enumerate(self.fm):
            if not parts:
                continue
            p = np.concatenate([x[0] for x in parts])
            r = lay.block_ident[np.concatenate([x[1] for x in parts])]
            c = np.concatenate([x[2] for x in parts]).astype(np.int64)
            key, inv = np.unique(p * n + r, return_inverse=True)
            fm_t.append(np.full(key.size, k))
            fm_p.append(key // n)
            fm_r.append(key % n)
            fm_c.append(np.bincount(inv, weights=c).astype(np.int64))

        def cat(xs):
            return np.concatenate(xs) if xs else np.zeros(0, dtype=np.int64)

        return {
            "trials": square(self.trials),
            "failures": square(self.failures),
            "failures_system": square(self.failures_system),
            "score_sum": square(self.score_sum),
            "score_count": square(self.score_count),
            "fm_threshold": cat(fm_t),
            "fm_probe": cat(fm_p),
            "fm_ref": cat(fm_r),
            "fm_count": cat(fm_c),
        }


def identification_sides(
    source, layout: Layout
) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(mode, probe_ok, gallery_ok, probe_status, gallery_status)`` of the 1:N search (see the module docstring)."""
    mode = getattr(source, "identification", "similarity")
    if mode == "search_similarity":
        status = np.asarray(source.search_probe_status, dtype=object)
        g_status = np.asarray(source.search_gallery_status, dtype=object)
        return mode, np.isin(status, OK), np.isin(g_status, OK), status, g_status
    if mode not in ("similarity", "not_run"):
        raise ValueError(
            f"{source.system}: identification source {mode!r}; use similarity, search_similarity or not_run"
        )
    return (
        mode,
        layout.probe_ok,
        layout.gallery_ok,
        np.asarray(source.probe_status, dtype=object),
        np.asarray(source.gallery_status, dtype=object),
    )


def _search_rows(source, mode, rows, layout, probe_ok, gallery_ok, block):
    """The 1:N block of probes ``rows`` (gallery in identity order) for the search ``mode``."""
    if mode == "similarity":
        return block
    if mode == "not_run":
        return np.full(block.shape, np.nan, dtype=np.float32)
    out = np.array(source.search_block(rows, layout.order), dtype=np.float32, copy=True)
    out[~probe_ok[rows]] = np.nan
    out[:, ~gallery_ok[layout.order]] = np.nan
    return out


@dataclass(frozen=True)
class PairScores:
    """The 1:1 genuine scores (``reidentification.tsv`` and ``verification.tsv``), float32, NaN = failed.

    ``reid`` ``(P,)``: each probe against its own original (NaN for a probe without one);
    ``mated_probe`` / ``mated_gallery`` / ``mated`` ``(M,)``: the mated pairs and their scores;
    ``near_duplicate`` ``(M,)``: pairs excluded as the same picture (written, never counted).
    """

    reid: np.ndarray
    mated_probe: np.ndarray
    mated_gallery: np.ndarray
    mated: np.ndarray
    near_duplicate: np.ndarray


@dataclass(frozen=True)
class SearchScores:
    """The 1:N searches (``identification.tsv``), one entry per probe.

    ``mode``: where they came from (``similarity``, ``search_similarity`` or ``not_run``) and ``reason``
    why not run; ``probe_ok`` / ``probe_status``: the search's own probe statuses; ``closed`` / ``open``:
    :func:`maskaudit.protocol.identification.search` columns (``mate_rank``, ``mate_score``, ...) in the
    closed set and with the held-out identities hidden; ``closed_search`` / ``open_search``: ``mated``,
    ``mated_unenrolled``, ``non_mated`` or ``not_run``; ``mates_available``: enrolled mates a probe may
    find; ``unenrolled_charge``: ``system`` / ``pipeline`` for a ``mated_unenrolled`` search, else ``""``.
    """

    mode: str
    reason: str
    probe_ok: np.ndarray
    probe_status: np.ndarray
    closed: dict
    open: dict
    closed_search: np.ndarray
    open_search: np.ndarray
    mates_available: np.ndarray
    unenrolled_charge: np.ndarray


@dataclass(frozen=True)
class ReferenceTail:
    """What fixes the global thresholds (:mod:`maskaudit.protocol.thresholds`): the ``tail`` of the
    highest reference impostor scores (descending, ``ScoreOptions.tail_k`` of them), how many reference
    impostor comparisons there were (``n_impostor``), and which probes belong to the reference
    identities (``reference_probe``, everyone without a calibration split)."""

    tail: np.ndarray
    n_impostor: int
    reference_probe: np.ndarray


@dataclass(frozen=True)
class VariantScores:
    """Every score of one (system, dataset, variant): what :mod:`maskaudit.protocol.files` writes and
    :mod:`maskaudit.protocol.thresholds` reads. ``impostors``: the arrays of ``impostors.npz``
    (:data:`maskaudit.protocol.files.NPZ_KEYS`); ``self_excluded``: the probe's own original is out of
    its 1:N gallery (``protocol.include_self`` false)."""

    pairs: PairScores
    search: SearchScores
    impostors: dict
    reference: ReferenceTail
    self_excluded: bool


@dataclass(frozen=True)
class _Exclusions:
    """Which (probe, gallery) cells each part of the pass leaves out, as sorted ``probe * G + gallery``
    keys; the ``*_r`` keys use the probe's position in :func:`probe_order` (the order chunks come in)."""

    dup_keys: np.ndarray  # near-duplicates of a probe within its identity
    # out of a probe's 1:N gallery: own original (unless include_self), near-duplicates
    ident_excl: np.ndarray
    ident_excl_r: np.ndarray
    self_dup_r: np.ndarray  # own original and near-duplicates: no score sums
    cross_r: np.ndarray  # the same picture under another identity: no impostor, no 1:N candidate


def _exclusions(
    source, layout: Layout, near_duplicates: dict, opts: ScoreOptions, rank: np.ndarray
) -> _Exclusions:
    n_g = layout.gallery_ident.size
    dup_keys, ident_excl = excluded_pairs(
        layout, source.probe_ids, source.gallery_ids, near_duplicates, opts.include_self
    )
    has_self = layout.self_col >= 0
    self_keys = pair_keys(np.flatnonzero(has_self), layout.self_col[has_self], n_g)
    self_dup = np.unique(np.concatenate([self_keys, dup_keys]))
    cross_keys = excluded_pairs(
        layout, source.probe_ids, source.gallery_ids, opts.cross_duplicates, True
    )[0]
    return _Exclusions(
        dup_keys,
        ident_excl,
        _ranked_keys(ident_excl, rank, n_g),
        _ranked_keys(self_dup, rank, n_g),
        _ranked_keys(cross_keys, rank, n_g),
    )


def _in_probe_order(parts: dict, order: np.ndarray) -> dict:
    """Chunks came in probe order: concatenate each column and put its rows back in probe index order."""
    out = {}
    for k, v in parts.items():
        cat = np.concatenate(v)
        out[k] = np.empty_like(cat)
        out[k][order] = cat
    return out


class _PairPass:
    """The genuine scores: each probe's own original and its mated pairs."""

    def __init__(self, layout: Layout, rank: np.ndarray, excl: _Exclusions):
        self.layout = layout
        self.has_self = layout.self_col >= 0
        self.m_probe, self.m_gallery = mated_pairs(layout)
        self.m_keys = pair_keys(self.m_probe, self.m_gallery, layout.gallery_ident.size)
        self.m_sort = np.argsort(rank[self.m_probe], kind="stable")
        self.m_rank = rank[self.m_probe][self.m_sort]
        self.dup_keys = excl.dup_keys
        self.reid = np.full(layout.probe_ident.size, np.nan, dtype=np.float32)
        self.mated = np.full(self.m_probe.size, np.nan, dtype=np.float32)

    def add(self, r0: int, rows: np.ndarray, block: np.ndarray) -> None:
        lay = self.layout
        local = self.has_self[rows]
        self.reid[rows[local]] = block[
            np.flatnonzero(local), lay.position[lay.self_col[rows[local]]]
        ]
        lo, hi = np.searchsorted(self.m_rank, [r0, r0 + rows.size])
        sel = self.m_sort[lo:hi]
        self.mated[sel] = block[self.m_rank[lo:hi] - r0, lay.position[self.m_gallery[sel]]]

    def result(self) -> PairScores:
        return PairScores(
            self.reid, self.m_probe, self.m_gallery, self.mated, np.isin(self.m_keys, self.dup_keys)
        )


class _SearchPass:
    """The 1:N searches, closed set and open set (held-out identities hidden), by identity."""

    def __init__(self, source, layout: Layout, excl: _Exclusions, opts: ScoreOptions):
        self.source, self.layout, self.excl, self.rank_k = source, layout, excl, opts.rank_k
        self.mode, self.probe_ok, self.gallery_ok, self.status, self.gallery_status = (
            identification_sides(source, layout)
        )
        self.held_codes = np.isin(layout.identities, list(opts.held_out))
        self.hidden = self.held_codes[layout.block_ident]
        self.closed, self.opened = {}, {}

    def add(self, r0: int, rows: np.ndarray, block: np.ndarray) -> None:
        lay, n_g, r1 = self.layout, self.layout.gallery_ident.size, r0 + rows.size
        id_block = _search_rows(
            self.source, self.mode, rows, lay, self.probe_ok, self.gallery_ok, block
        )
        ident_block = _blank(
            _blank(id_block, self.excl.ident_excl_r, r0, r1, lay, n_g),
            self.excl.cross_r,
            r0,
            r1,
            lay,
            n_g,
        )
        best = identity_best(ident_block, lay.block_starts)
        mate_block = lay.ident_block[lay.probe_ident[rows]]
        searchable = self.probe_ok[rows]
        for store, hide in ((self.closed, None), (self.opened, self.hidden)):
            for key, val in search(best, mate_block, searchable, self.rank_k, hide).items():
                store.setdefault(key, []).append(val)

    def _mates(self, flag: np.ndarray) -> np.ndarray:
        """Per probe: gallery images of its identity with ``flag``, minus those out of its 1:N gallery."""
        lay, ident_excl = self.layout, self.excl.ident_excl
        n_p, n_g = lay.probe_ident.size, lay.gallery_ident.size
        per_id = np.bincount(lay.gallery_ident[flag], minlength=lay.n_identities)[lay.probe_ident]
        gone = (
            np.bincount(ident_excl // n_g, weights=flag[ident_excl % n_g], minlength=n_p)
            if ident_excl.size
            else 0
        )
        return per_id - np.asarray(gone, np.int64)

    def result(self, order: np.ndarray) -> SearchScores:
        lay = self.layout
        n_p = lay.probe_ident.size
        mates_available = self._mates(self.gallery_ok)  # acquired mates a probe may find
        # mates whatever their status
        mates_total = self._mates(np.ones(lay.gallery_ident.size, bool))
        # failed to enrol (system origin)
        mates_system = self._mates(charges(self.gallery_status) == "system")
        held_probe = self.held_codes[lay.probe_ident]
        # a probe whose identity has gallery photos, none of them enrolled, is its own category: never a
        # non-mated search; charged to the system when one of those mates failed with a system origin
        unenrolled = (mates_available <= 0) & (mates_total > 0)
        closed_search = np.where(
            mates_available > 0, "mated", np.where(unenrolled, "mated_unenrolled", "non_mated")
        )
        open_search = np.where(held_probe, "non_mated", closed_search)
        unenrolled_charge = np.where(
            unenrolled, np.where(mates_system > 0, "system", "pipeline"), ""
        )
        if self.mode == "not_run":
            closed_search = open_search = np.full(n_p, "not_run")
            unenrolled_charge = np.full(n_p, "")
        return SearchScores(
            mode=self.mode,
            reason=getattr(self.source, "identification_reason", ""),
            probe_ok=self.probe_ok,
            probe_status=self.status,
            closed=_in_probe_order(self.closed, order),
            open=_in_probe_order(self.opened, order),
            closed_search=closed_search,
            open_search=open_search,
            mates_available=mates_available,
            unenrolled_charge=unenrolled_charge,
        )


class _ImpostorPass:
    """The non-mated comparisons: identity-pair counts, the seeded impostor sample and the reference tail."""

    def __init__(self, source, layout: Layout, excl: _Exclusions, opts: ScoreOptions):
        self.layout, self.excl, self.tail_k = layout, excl, opts.tail_k
        self.planned = getattr(source, "planned", None)
        calib = np.isin(layout.identities, list(opts.calibration))
        self.calib = calib
        # identities whose pairs fix the thresholds
        self.reference = ~calib if not calib.any() else calib
        self.ref_cols = self.reference[layout.gallery_ident[layout.order]]
        self.sorted_ident = layout.gallery_ident[layout.order]
        self.names = [k for k, v in opts.thresholds.items() if np.isfinite(v)]
        self.counts = _PairCounts(layout, self.names)
        # one precision: float32 scores against float32 thresholds (the thresholds file stores float32 numbers)
        self.thr_values = [np.float32(opts.thresholds[k]) for k in self.names]
        self.samples = []
        self.tail = np.zeros(0, dtype=np.float32)
        self.n_impostor = 0
        if self.planned is None:
            n_candidates = int(layout.probe_ok.sum()) * int(layout.gallery_ok.sum())
        else:
            n_candidates = int(self.planned[np.ix_(layout.probe_ok, layout.gallery_ok)].sum())
        self.rate = (
            1.0 if n_candidates <= opts.impostor_sample else opts.impostor_sample / n_candidates
        )
        self.rng = rng_for(*opts.sample_seed, "impostor-sample")

    def add(self, r0: int, rows: np.ndarray, block: np.ndarray) -> None:
        lay, n_g, r1 = self.layout, self.layout.gallery_ident.size, r0 + rows.size
        nonmated = self.sorted_ident[None, :] != lay.probe_ident[rows][:, None]
        counted = np.ones_like(nonmated)
        if lay.baseline:
            upper = lay.order[None, :] > lay.self_col[rows][:, None]
            nonmated &= upper
            counted &= upper
        sd = _keys_in(self.excl.self_dup_r, r0, r1, n_g)
        if sd.size:
            counted[sd // n_g - r0, lay.position[sd % n_g]] = False
        cd = _keys_in(self.excl.cross_r, r0, r1, n_g)
        if cd.size:  # the same picture under another identity: no impostor comparison at all
            nonmated[cd // n_g - r0, lay.position[cd % n_g]] = False
            counted[cd // n_g - r0, lay.position[cd % n_g]] = False
        acquired = ~np.isnan(block)
        valid = acquired & nonmated
        self.counts.add(
            rows,
            block,
            acquired,
            valid,
            nonmated,
            counted,
            self.thr_values,
            None if self.planned is None else self.planned[rows][:, lay.order],
        )
        ref_valid = valid & self.reference[lay.probe_ident[rows]][:, None] & self.ref_cols[None, :]
        self.n_impostor += int(np.count_nonzero(ref_valid))
        if self.tail_k:
            tail = np.concatenate([self.tail, block[ref_valid]])
            if tail.size > self.tail_k:
                tail = tail[np.argpartition(-tail, self.tail_k - 1)[: self.tail_k]]
            self.tail = tail
        if self.rate < 1.0:
            valid &= self.rng.random(block.shape, dtype=np.float32) < self.rate
        r, c = np.nonzero(valid)
        self.samples.append((rows[r], lay.order[c], block[r, c]))

    def result(self) -> tuple[dict, ReferenceTail]:
        lay, samples = self.layout, self.samples
        imp = self.counts.arrays()
        sp = np.concatenate([s[0] for s in samples]) if samples else np.zeros(0, np.int64)
        sg = np.concatenate([s[1] for s in samples]) if samples else np.zeros(0, np.int64)
        ss = np.concatenate([s[2] for s in samples]) if samples else np.zeros(0, np.float32)
        imp.update(
            calibration=self.calib,
            identity=lay.identities,
            probe_identity=lay.probe_ident,
            gallery_identity=lay.gallery_ident,
            threshold_name=np.array(self.names, dtype=str),
            threshold_value=np.array(self.thr_values, dtype=np.float32).astype(float),
            sample_probe=sp,
            sample_ref=sg,
            sample_score=ss.astype(np.float32),
            sample_fraction=np.float64(self.rate),
        )
        return imp, ReferenceTail(
            np.sort(self.tail)[::-1], self.n_impostor, self.reference[lay.probe_ident]
        )


def score_variant(
    source, layout: Layout, near_duplicates: dict, opts: ScoreOptions
) -> VariantScores:
    """Every score of one variant, in one chunked pass over the similarity blocks (see the module
    docstring); the genuine pairs, the 1:N searches and the impostors each take what they need of a block."""
    order = probe_order(layout)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    excl = _exclusions(source, layout, near_duplicates, opts, rank)
    pairs = _PairPass(layout, rank, excl)
    searches = _SearchPass(source, layout, excl, opts)
    impostors = _ImpostorPass(source, layout, excl, opts)
    for r0, rows, block in iter_blocks(source, layout, opts.chunk):
        pairs.add(r0, rows, block)
        searches.add(r0, rows, block)
        impostors.add(r0, rows, block)
    imp, reference = impostors.result()
    return VariantScores(
        pairs=pairs.result(),
        search=searches.result(order),
        impostors=imp,
        reference=reference,
        self_excluded=not opts.include_self,
    )
