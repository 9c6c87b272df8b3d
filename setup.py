"""Package discovery only; all metadata is in setup.cfg.

`taskcenter` lives in `plugins/` (the Airflow plugins folder of the layout) and the HTTP layer
`api_plugin` at the top level; setup.cfg's `find:` takes a single root, so both are listed here.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages("plugins", include=["taskcenter", "taskcenter.*"])
    + find_packages(".", include=["api_plugin", "api_plugin.*"]),
    package_dir={"taskcenter": "plugins/taskcenter", "api_plugin": "api_plugin"},
)
