"""Adapters to Airflow and storage: the only ring that imports Airflow internals."""
