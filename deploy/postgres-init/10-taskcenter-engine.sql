-- The dataset engine DB of taskcenter's DATASET and APP_REFRESH jobs (connection taskcenter_engine).
CREATE DATABASE taskcenter_engine OWNER airflow;
