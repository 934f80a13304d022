"""The vendor jobs the workflow plans and the files each reads, for `maskaudit vendors plan`."""

import logging

from maskaudit.progress import setup_logging
from maskaudit.vendors.inputs import write_job_inputs

setup_logging(snakemake.log[0], mem_mb=snakemake.resources.mem_mb)
write_job_inputs(snakemake.params.jobs, snakemake.output.table)
logging.info("%d vendor job(s) listed in %s", len(snakemake.params.jobs), snakemake.output.table)
