"""The audit report a reader acts on: ``results/audit.html`` (issue 16).

One standalone, offline HTML page (no external assets): findings first, every number a link to the
table row it was read from.

* :mod:`~maskaudit.report.sources` reads tables with their line numbers and turns a value into a
  cited number (the link, its formatting and its small-sample flags);
* :mod:`~maskaudit.report.verdicts` words the predeclared tests' verdicts from the tables, never by hand;
* :mod:`~maskaudit.report.card` builds one system card (per model and dataset) from that system's own
  metrics files, so adding a system rebuilds only its card and the cross-system views;
* :mod:`~maskaudit.report.figures` draws the page's figures as small SVG (text kept as text,
  colour-blind-safe palettes, axes and units, links from marks to rows);
* :mod:`~maskaudit.report.provenance` collects config and code hashes, package versions, weights
  SHA-256, dataset manifests with their licences;
* :mod:`~maskaudit.report.page` assembles the page: summary, heatmap, ranking, largest differences and
  interactions, the cards with their verdicts, provenance and the rows every number came from.
"""
