"""``python -m maskaudit`` is the ``maskaudit`` command."""

import sys

from maskaudit.cli import main

sys.exit(main())
