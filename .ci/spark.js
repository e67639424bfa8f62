// Spark local mode and sqlglot for tests/spark (pqlkit sql's spark, bigquery and snowflake
// dialects): Debian's OpenJDK 17 when no Java 17+ is there, and a Python venv in
// target/spark-venv with the pinned .ci/requirements-spark.txt. Idempotent: a second run
// installs nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun, output, root } from './tools.js';

export const venv = join(root, 'target', 'spark-venv');
export const python = join(venv, 'bin', 'python');
const requirements = join(root, '.ci', 'requirements-spark.txt');
const stamp = join(venv, 'pqlkit-requirements.txt');

function javaMajor() {
  const text = output('sh', ['-c', 'java -version 2>&1']);
  const m = text?.match(/version "(\d+)/);
  return m ? Number(m[1]) : 0;
}

function apt(packages) {
  const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
  const run = (args) => (sudo.length ? mustRun('sudo', ['apt-get', ...args]) : mustRun('apt-get', args));
  run(['update']);
  run(['install', '-y', ...packages]);
}

export function ensureSpark() {
  if (javaMajor() < 17) {
    console.log("pqlkit setup: installing Debian's openjdk-17-jre-headless (Spark 4 needs Java 17+)");
    apt(['openjdk-17-jre-headless']);
  }
  if (output('python3', ['-m', 'venv', '--help']) === null) {
    console.log("pqlkit setup: installing Debian's python3-venv");
    apt(['python3', 'python3-venv']);
  }
  const wanted = readFileSync(requirements, 'utf8');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  if (!existsSync(python)) {
    console.log('pqlkit setup: creating the Python venv target/spark-venv');
    mustRun('python3', ['-m', 'venv', venv]);
  }
  console.log('pqlkit setup: installing pyspark and sqlglot (pinned, about 330 MB, once)');
  mustRun(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(stamp, wanted);
}
