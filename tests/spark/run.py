"""Runs pqlkit's Spark SQL on Apache Spark in local mode, and parses the BigQuery and Snowflake
SQL with sqlglot. Called by tests/js/spark.test.js (through .ci/spark.js, which installs
pyspark, sqlglot and Java when missing).

  run.py spark <events.parquet> <conversions.parquet> <out.json> <query.sql>...
  run.py parse <dialect> <query.sql>
"""
import json
import sys
import time


def spark(events, conversions, out, *queries):
    from pyspark.sql import SparkSession

    started = time.time()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("pqlkit-sql")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.read.parquet(events).createOrReplaceTempView("pqlkit_events")
    session.read.parquet(conversions).createOrReplaceTempView("pqlkit_conversions")
    ready = time.time()
    results = []
    for query_path in queries:
        with open(query_path) as f:
            query = f.read()
        t0 = time.time()
        rows = [row.asDict() for row in session.sql(query).collect()]
        results.append({"rows": rows, "seconds": time.time() - t0})
    with open(out, "w") as f:
        json.dump({"results": results, "startSeconds": ready - started}, f)
    session.stop()


def parse(dialect, query_path):
    import sqlglot

    with open(query_path) as f:
        query = f.read()
    statements = sqlglot.parse(query, read=dialect)
    if len(statements) != 1:
        raise SystemExit(f"{dialect}: {len(statements)} statements, expected one")
    print(f"{dialect}: one {type(statements[0]).__name__} statement, {len(query)} characters")


if __name__ == "__main__":
    if sys.argv[1] == "spark":
        spark(*sys.argv[2:])
    else:
        parse(sys.argv[2], sys.argv[3])
