"""The pure domain ring: no Airflow, FastAPI or SQLAlchemy imports."""
