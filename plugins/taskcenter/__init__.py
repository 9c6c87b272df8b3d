"""taskcenter: a task management center for BI and data platforms, built on Apache Airflow 3.

The package keeps three rings, imports pointing inward only:

* ``taskcenter.domain``: pure Python (plans, Quartz cron, statuses, errors);
* ``taskcenter.adapters``: Airflow and the metadata DB (store, timetable, operators, gateway);
* the HTTP layer, the top-level package ``api_plugin``.

``taskcenter.plugin`` and ``taskcenter.cli`` are composition roots that wire the rings together.
Nothing here does work at import time: Airflow imports plugins in every process.
"""

from __future__ import annotations
