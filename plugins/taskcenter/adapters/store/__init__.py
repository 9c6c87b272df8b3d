"""taskcenter's own tables in the Airflow metadata DB, created and upgraded by `airflow db migrate`."""
