# The production image: Airflow 3.3 with taskcenter installed (plugin + provider) at the tested versions.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root . /opt/taskcenter
RUN pip install --no-cache-dir -c /opt/taskcenter/constraints.txt /opt/taskcenter
