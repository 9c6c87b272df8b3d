"""The HTTP ring: the vendor task-center API (`/api/schedules`, `/api/contexts`) on FastAPI.

Routes translate requests into service calls and domain errors into the response envelope; they
hold no SQL and no Airflow internals.
"""
