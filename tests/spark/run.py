"""Runs pqlkit's Spark SQL on Apache Spark in local mode, and parses the BigQuery and Snowflake
SQL with sqlglot. Called by tests/js/spark.test.js (through .ci/spark.js, which installs
pyspark, sqlglot and Java when missing).

  run.py spark <events.parquet> <conversions.parquet> <out.json> <query.sql>...
  run.py time <events.parquet> <conversions.parquet> <out.parquet> <query.sql>
      (for the README's figures: the result written as Parquet, the seconds printed)
  run.py parse <dialect> <query.sql>
"""
import json
import os
import sys
import time


def session_over(events, conversions):
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("pqlkit-sql")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", os.environ.get("PQLKIT_SPARK_MEMORY", "4g"))
        .config("spark.local.dir", os.environ.get("PQLKIT_SPARK_TMP", "/tmp"))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.read.parquet(events).createOrReplaceTempView("pqlkit_events")
    session.read.parquet(conversions).createOrReplaceTempView("pqlkit_conversions")
    return session


def spark(events, conversions, out, *queries):
    started = time.time()
    session = session_over(events, conversions)
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


def timed(events, conversions, out, query_path):
    started = time.time()
    session = session_over(events, conversions)
    with open(query_path) as f:
        query = f.read()
    ready = time.time()
    session.sql(query).write.mode("overwrite").parquet(out)
    done = time.time()
    rows = session.read.parquet(out).count()
    print(f"spark: started in {ready - started:.1f} s, query {done - ready:.1f} s, {rows} rows")
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
    elif sys.argv[1] == "time":
        timed(*sys.argv[2:])
    else:
        parse(sys.argv[2], sys.argv[3])
