# The production image: Airflow 3.3 with taskcenter installed (plugin + provider) at the tested versions.
# Every component (api-server, schedulers, dag-processor, plan-processor, triggerer, Celery workers)
# runs this image; containers share no disk (docker-compose.yml, deploy/helm/, docs/cluster.md).
FROM apache/airflow:3.3.2-python3.11
# Debian's Chromium renders the SCREENSHOT and APP_EMAIL job types' pages.
USER root
RUN apt-get update && apt-get install -y --no-install-recommends chromium && rm -rf /var/lib/apt/lists/*
USER airflow
COPY --chown=airflow:root . /opt/taskcenter
RUN pip install --no-cache-dir -c /opt/taskcenter/constraints.txt /opt/taskcenter
# Each container's own folders: /opt/airflow/plans, where the `taskcenter-plans` bundle
# (PlanFilesBundle) copies the plans' DAG files from the metadata DB, and the results of the jobs
# a worker runs. Your own DAGs go into /opt/airflow/dags (the `dags-folder` bundle) of the image.
RUN mkdir -p /opt/airflow/plans /opt/airflow/taskcenter/results
