"""Statistics of the metrics stage, one module per concern (orchestrated by :mod:`maskaudit.tables`).

Plain-array rates in the style of bob.measure (arrays in, plain numbers out, formula and tie rule in
each docstring): :mod:`.verification` (FMR/FNMR, EER, ROC), :mod:`.identification` (mate ranks, CMC),
:mod:`.intervals` (Clopper-Pearson). Over identities: :mod:`.rates` and :mod:`.measures` (counts per
identity), :mod:`.bootstrap`, :mod:`.permutation`, :mod:`.contrasts`, :mod:`.differentials`. One table
each: :mod:`.group_rates`, :mod:`.gaps`, :mod:`.mask_effects`, :mod:`.clustering`, :mod:`.hypotheses`.
"""
