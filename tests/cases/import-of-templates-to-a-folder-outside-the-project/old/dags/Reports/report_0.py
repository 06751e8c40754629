from airflow import DAG

dag = DAG("report_0")
