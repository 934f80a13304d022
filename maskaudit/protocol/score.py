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
    held_out: frozenset = frozenset()          # identities (strings) out of the open-set gallery
    thresholds: dict = field(default_factory=dict)  # name -> similarity; NaN ones are skipped
    tail_k: int = 0                            # keep the tail_k highest impostor scores (thresholds)
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
        rows = order[r0:r0 + chunk]
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
        self.trials = np.zeros((n, b), dtype=np.int32)   # int32: < 2^31 comparisons per identity pair
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
            if planned is not None:  # a comparison-only system: only the cells it was asked to compare
                failed &= planned
            self._accumulate(self.failures, pid, self._reduce(failed))
            lay = self.layout
            row_sys, col_sys = lay.probe_system_failed[rows], lay.gallery_system_failed[lay.order]
            row_pipe, col_pipe = row_bad & ~row_sys, col_bad & ~col_sys
            system = failed & (row_sys[:, None] | col_sys[None, :]) & ~(row_pipe[:, None] | col_pipe[None, :])
            self._accumulate(self.failures_system, pid, self._reduce(system))
        scored = acquired & counted
        self._accumulate(self.score_sum, pid, self._reduce(np.where(scored, block, 0), np.float64))
        self._accumulate(self.score_count, pid, self._reduce(scored))
        for k, t in enumerate(thresholds):
            hit = valid & (block >= t)
            r, c = np.nonzero(hit)
            if r.size:  # sparse: only the pairs that matched
                key = pid[r] * self.layout.block_starts.size + np.searchsorted(self.layout.block_starts, c,
                                                                                   side="right") - 1
                uniq, cnt = np.unique(key, return_counts=True)
                n_b = self.layout.block_starts.size
                self.fm[k].append((uniq // n_b, uniq % n_b, cnt))

    def arrays(self) -> dict:
        """Square ``(n_id, n_id)`` matrices (probe identity x reference identity) and sparse false matches."""
        lay, n = self.layout, self.layout.n_identities

        def square(m):
            if lay.block_ident.size == n:  # every identity has gallery images: already square, no copy
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
        cat = (lambda xs: np.concatenate(xs) if xs else np.zeros(0, dtype=np.int64))
        return {"trials": square(self.trials), "failures": square(self.failures),
                "failures_system": square(self.failures_system),
                "score_sum": square(self.score_sum), "score_count": square(self.score_count),
                "fm_threshold": cat(fm_t), "fm_probe": cat(fm_p), "fm_ref": cat(fm_r), "fm_count": cat(fm_c)}


def identification_sides(source, layout: Layout) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(mode, probe_ok, gallery_ok, probe_status, gallery_status)`` of the 1:N search (see the module docstring)."""
    mode = getattr(source, "identification", "similarity")
    if mode == "search_similarity":
        status = np.asarray(source.search_probe_status, dtype=object)
        g_status = np.asarray(source.search_gallery_status, dtype=object)
        return mode, np.isin(status, OK), np.isin(g_status, OK), status, g_status
    if mode not in ("similarity", "not_run"):
        raise ValueError(f"{source.system}: identification source {mode!r}; use similarity, search_similarity or not_run")
    return (mode, layout.probe_ok, layout.gallery_ok, np.asarray(source.probe_status, dtype=object),
            np.asarray(source.gallery_status, dtype=object))


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


def score_variant(source, layout: Layout, near_duplicates: dict, opts: ScoreOptions) -> dict:
    """Every score of one variant. Returns plain arrays (see :mod:`maskaudit.protocol` for the files)."""
    n_p, n_g = layout.probe_ident.size, layout.gallery_ident.size
    id_mode, id_probe_ok, id_gallery_ok, id_status, id_gallery_status = identification_sides(source, layout)
    planned = getattr(source, "planned", None)
    dup_keys, ident_excl = excluded_pairs(layout, source.probe_ids, source.gallery_ids, near_duplicates,
                                          opts.include_self)
    has_self = layout.self_col >= 0
    self_keys = pair_keys(np.flatnonzero(has_self), layout.self_col[has_self], n_g)
    self_dup = np.unique(np.concatenate([self_keys, dup_keys]))
    cross_keys = excluded_pairs(layout, source.probe_ids, source.gallery_ids, opts.cross_duplicates, True)[0]
    m_probe, m_gallery = mated_pairs(layout)
    m_keys = pair_keys(m_probe, m_gallery, n_g)
    order = probe_order(layout)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    ident_excl_r = _ranked_keys(ident_excl, rank, n_g)
    self_dup_r = _ranked_keys(self_dup, rank, n_g)
    cross_r = _ranked_keys(cross_keys, rank, n_g)
    calib = np.isin(layout.identities, list(opts.calibration))
    reference = ~calib if not calib.any() else calib  # identities whose pairs fix the thresholds
    ref_cols = reference[layout.gallery_ident[layout.order]]
    m_sort = np.argsort(rank[m_probe], kind="stable")
    m_rank = rank[m_probe][m_sort]
    sorted_ident = layout.gallery_ident[layout.order]

    # mates a probe may find: acquired gallery images of its identity minus its exclusions
    avail = np.bincount(layout.gallery_ident[id_gallery_ok], minlength=layout.n_identities)
    excl_ok = id_gallery_ok[ident_excl % n_g] if ident_excl.size else np.zeros(0, bool)
    n_excl = np.bincount(ident_excl // n_g, weights=excl_ok, minlength=n_p) if ident_excl.size else np.zeros(n_p)
    mates_available = avail[layout.probe_ident] - n_excl.astype(np.int64)
    # mates whatever their status, and those that failed with a system origin (a failure to enrol)
    excl_g = ident_excl % n_g if ident_excl.size else np.zeros(0, np.int64)

    def mates_where(flag):
        per_id = np.bincount(layout.gallery_ident[flag], minlength=layout.n_identities)[layout.probe_ident]
        gone = np.bincount(ident_excl // n_g, weights=flag[excl_g], minlength=n_p) if ident_excl.size else 0
        return per_id - np.asarray(gone, np.int64)

    mates_total = mates_where(np.ones(n_g, bool))
    mates_system = mates_where(charges(id_gallery_status) == "system")
    held_codes = np.isin(layout.identities, list(opts.held_out))
    hidden = held_codes[layout.block_ident]

    names = [k for k, v in opts.thresholds.items() if np.isfinite(v)]
    counts = _PairCounts(layout, names)
    # one precision: float32 scores against float32 thresholds (the thresholds file stores float32 numbers)
    thr_values = [np.float32(opts.thresholds[k]) for k in names]
    reid = np.full(n_p, np.nan, dtype=np.float32)
    mated = np.full(m_probe.size, np.nan, dtype=np.float32)
    closed = {}
    opened = {}
    samples = []
    tail = np.zeros(0, dtype=np.float32)
    n_impostor = 0
    if planned is None:
        n_candidates = int(layout.probe_ok.sum()) * int(layout.gallery_ok.sum())
    else:
        n_candidates = int(planned[np.ix_(layout.probe_ok, layout.gallery_ok)].sum())
    rate = 1.0 if n_candidates <= opts.impostor_sample else opts.impostor_sample / n_candidates
    rng = rng_for(*opts.sample_seed, "impostor-sample")

    for r0, rows, block in iter_blocks(source, layout, opts.chunk):
        r1 = r0 + rows.size
        local = has_self[rows]
        reid[rows[local]] = block[np.flatnonzero(local), layout.position[layout.self_col[rows[local]]]]
        lo, hi = np.searchsorted(m_rank, [r0, r1])
        sel = m_sort[lo:hi]
        mated[sel] = block[m_rank[lo:hi] - r0, layout.position[m_gallery[sel]]]

        id_block = _search_rows(source, id_mode, rows, layout, id_probe_ok, id_gallery_ok, block)
        ident_block = _blank(_blank(id_block, ident_excl_r, r0, r1, layout, n_g), cross_r, r0, r1, layout, n_g)
        best = identity_best(ident_block, layout.block_starts)
        mate_block = layout.ident_block[layout.probe_ident[rows]]
        searchable = id_probe_ok[rows]
        for store, hide in ((closed, None), (opened, hidden)):
            for key, val in search(best, mate_block, searchable, opts.rank_k, hide).items():
                store.setdefault(key, []).append(val)

        nonmated = sorted_ident[None, :] != layout.probe_ident[rows][:, None]
        counted = np.ones_like(nonmated)
        if layout.baseline:
            upper = layout.order[None, :] > layout.self_col[rows][:, None]
            nonmated &= upper
            counted &= upper
        sd = _keys_in(self_dup_r, r0, r1, n_g)
        if sd.size:
            counted[sd // n_g - r0, layout.position[sd % n_g]] = False
        cd = _keys_in(cross_r, r0, r1, n_g)
        if cd.size:  # the same picture under another identity: no impostor comparison at all
            nonmated[cd // n_g - r0, layout.position[cd % n_g]] = False
            counted[cd // n_g - r0, layout.position[cd % n_g]] = False
        acquired = ~np.isnan(block)
        valid = acquired & nonmated
        counts.add(rows, block, acquired, valid, nonmated, counted, thr_values,
                   None if planned is None else planned[rows][:, layout.order])
        ref_valid = valid & reference[layout.probe_ident[rows]][:, None] & ref_cols[None, :]
        n_impostor += int(np.count_nonzero(ref_valid))
        if opts.tail_k:
            tail = np.concatenate([tail, block[ref_valid]])
            if tail.size > opts.tail_k:
                tail = tail[np.argpartition(-tail, opts.tail_k - 1)[:opts.tail_k]]
        if rate < 1.0:
            valid &= rng.random(block.shape, dtype=np.float32) < rate
        r, c = np.nonzero(valid)
        samples.append((rows[r], layout.order[c], block[r, c]))

    def join(parts):  # chunks came in probe order: put rows back in probe index order
        out = {}
        for k, v in parts.items():
            cat = np.concatenate(v)
            out[k] = np.empty_like(cat)
            out[k][order] = cat
        return out

    closed, opened = join(closed), join(opened)
    imp = counts.arrays()
    sp = np.concatenate([s[0] for s in samples]) if samples else np.zeros(0, np.int64)
    sg = np.concatenate([s[1] for s in samples]) if samples else np.zeros(0, np.int64)
    ss = np.concatenate([s[2] for s in samples]) if samples else np.zeros(0, np.float32)
    imp.update(calibration=calib, identity=layout.identities, probe_identity=layout.probe_ident, gallery_identity=layout.gallery_ident, threshold_name=np.array(names, dtype=str),
               threshold_value=np.array(thr_values, dtype=np.float32).astype(float), sample_probe=sp, sample_ref=sg,
               sample_score=ss.astype(np.float32), sample_fraction=np.float64(rate))
    held_probe = held_codes[layout.probe_ident]
    # a probe whose identity has gallery photos, none of them enrolled, is its own category: never a
    # non-mated search; charged to the system when one of those mates failed with a system origin
    unenrolled = (mates_available <= 0) & (mates_total > 0)
    closed_search = np.where(mates_available > 0, "mated", np.where(unenrolled, "mated_unenrolled", "non_mated"))
    open_search = np.where(held_probe, "non_mated", closed_search)
    unenrolled_charge = np.where(unenrolled, np.where(mates_system > 0, "system", "pipeline"), "")
    if id_mode == "not_run":
        closed_search = open_search = np.full(n_p, "not_run")
        unenrolled_charge = np.full(n_p, "")
    return {
        "reid": reid, "mated_probe": m_probe, "mated_gallery": m_gallery, "mated": mated,
        "near_duplicate": np.isin(m_keys, dup_keys), "closed": closed, "open": opened,
        "closed_search": closed_search, "open_search": open_search,
        "identification": id_mode, "identification_reason": getattr(source, "identification_reason", ""),
        "id_probe_ok": id_probe_ok, "id_probe_status": id_status, "mates_available": mates_available,
        "unenrolled_charge": unenrolled_charge, "impostors": imp,
        "tail": np.sort(tail)[::-1], "n_impostor": n_impostor, "self_excluded": not opts.include_self,
        "reference_probe": reference[layout.probe_ident],
    }
