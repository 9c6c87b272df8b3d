"""Adapters to Airflow: generated plan DAGs, their builder and operator, and the gateway the services use."""
