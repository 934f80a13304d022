"""The human baseline: a browser survey of masked 1:N re-identification and its analysis.

* :mod:`~maskaudit.survey.trials`: trials from an audited dataset's identification protocol (answer key).
* :mod:`~maskaudit.survey.bundle`: what the web app serves (opaque image names, no ground truth).
* :mod:`~maskaudit.survey.machines`: every system answers the same trials from its caches.
* :mod:`~maskaudit.survey.store`: one data layer over SQLite (default) and PostgreSQL.
* :mod:`~maskaudit.survey.app`: the web app (Flask, served by waitress: ``maskaudit survey serve``).
* :mod:`~maskaudit.survey.analysis`, :mod:`~maskaudit.survey.contrast`, :mod:`~maskaudit.survey.plots`:
  humans against machines.
* :mod:`~maskaudit.survey.synthetic`: seeded synthetic responses (labelled as such) for the demo and tests.
"""
