# The production image: Airflow 3.3 with taskcenter installed (plugin + provider) at the tested versions.
FROM apache/airflow:3.3.2-python3.11
# Debian's Chromium renders the SCREENSHOT and APP_EMAIL job types' pages.
USER root
RUN apt-get update && apt-get install -y --no-install-recommends chromium && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root . /opt/taskcenter
RUN pip install --no-cache-dir -c /opt/taskcenter/constraints.txt /opt/taskcenter
