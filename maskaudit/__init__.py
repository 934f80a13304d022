"""maskaudit: audit face-recognition systems on masked faces for accuracy and demographic bias.

The workflow (``Snakefile``) only moves files; every computation lives in this package so it can
be imported, unit-tested and reused outside Snakemake.
"""

__version__ = "0.1.0"
