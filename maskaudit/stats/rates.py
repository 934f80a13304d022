"""Rates as ratios of counts over identities, for a group, with bootstrap replicates.

A :class:`Counts` holds the errors and trials of one measure per probe identity (1-D, ``(n,)``) or
per identity pair (2-D, ``(n, n)``: probe identity x reference identity, e.g. impostors). A group's
rate pools its identities: 1-D ``sum_{a in g} e_a / sum_{a in g} n_a``; 2-D ``sum_{a, b in g} E_ab /
sum_{a, b in g} N_ab`` (demographically matched: both sides in the group; the ``overall`` group
holds every identity, so it uses every impostor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maskaudit.stats.bootstrap import _div, quadratic
from maskaudit.stats.permutation import group_sums_1d, group_sums_2d


@dataclass
class Counts:
    errors: np.ndarray
    trials: np.ndarray

    @property
    def pairwise(self) -> bool:
        return np.ndim(self.trials) == 2

    def total(self, member: np.ndarray) -> tuple[float, float]:
        """``(errors, trials)`` of the group whose identities are ``member`` (bool mask)."""
        if self.pairwise:
            sub = np.ix_(member, member)
            return float(self.errors[sub].sum()), float(self.trials[sub].sum())
        return float(self.errors[member].sum()), float(self.trials[member].sum())

    def units(self, member: np.ndarray) -> int:
        """Identities of the group that contribute trials (on the probe side for 2-D counts)."""
        t = self.trials[np.ix_(member, member)].sum(1) if self.pairwise else self.trials[member]
        return int(np.count_nonzero(t))

    def replicates(self, weights: np.ndarray, member: np.ndarray) -> np.ndarray:
        """``(B,)`` bootstrap rates of the group: only its members' weights and counts enter, so a
        2-D group costs ``B x k^2`` for ``k`` members, not ``B x n^2``."""
        idx = np.flatnonzero(member)
        w = weights[:, idx]
        if self.pairwise:
            sub = np.ix_(idx, idx)
            return _div(quadratic(w, self.errors[sub]), quadratic(w, self.trials[sub]))
        return _div(w @ self.errors[idx].astype(float), w @ self.trials[idx].astype(float))

    def permuted(self, labels: np.ndarray, n_groups: int) -> np.ndarray:
        """``(n_perm, n_groups)`` group rates under permuted identity labels."""
        if self.pairwise:
            return _div(
                group_sums_2d(labels, self.errors, n_groups),
                group_sums_2d(labels, self.trials, n_groups),
            )
        return _div(
            group_sums_1d(labels, self.errors, n_groups),
            group_sums_1d(labels, self.trials, n_groups),
        )


def per_identity(codes: np.ndarray, n: int, values) -> np.ndarray:
    """Sum ``values`` (one per row) by identity code."""
    return np.bincount(
        np.asarray(codes, dtype=np.int64), weights=np.asarray(values, dtype=float), minlength=n
    )


def from_rows(codes, n: int, error, trial) -> Counts:
    """1-D counts from per-row booleans: ``trial`` rows count, ``error`` rows (within them) are errors."""
    trial = np.asarray(trial, bool)
    return Counts(
        per_identity(codes, n, np.asarray(error, bool) & trial), per_identity(codes, n, trial)
    )


def coo_matrix(n: int, rows, cols, values) -> np.ndarray:
    out = np.zeros((n, n))
    np.add.at(
        out, (np.asarray(rows, np.int64), np.asarray(cols, np.int64)), np.asarray(values, float)
    )
    return out
