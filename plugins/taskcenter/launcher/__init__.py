"""Starts the embedded default: an AIRFLOW_HOME, its DB, the admin user and Airflow's components.

Used by `taskcenter run` (the README's `make run`) and by the integration-test harness, so the
tests exercise exactly what users start.
"""
