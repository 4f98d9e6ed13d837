#!/usr/bin/env bash
# Installs the Kiln Jupyter kernel for this user ("Kiln (Java)", kernel name `kiln`), idempotently:
#   1. jupyter_client, nbclient, nbformat, nbconvert from the local wheel index when python3 lacks them;
#   2. the kernelspec: kernel/target/kiln-kernel.jar (built when missing) and a kernel.json that runs
#      this machine's JDK with fast start-up flags, via `jupyter kernelspec install --user --replace`;
#   3. an AppCDS class archive made by one training session of the installed kernel (start-up about
#      twice as fast; the kernel still runs, a little slower, if the archive is missing or stale).
# Run it again after rebuilding the jar. Settings: JAVA_HOME (else the `java` on PATH),
# KILN_KERNEL_NAME (default kiln), KILN_KERNEL_JAR (default kernel/target/kiln-kernel.jar).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
name="${KILN_KERNEL_NAME:-kiln}"
jar="${KILN_KERNEL_JAR:-$here/target/kiln-kernel.jar}"
say() { printf '[kernelspec] %s\n' "$*"; }

# 1. The Jupyter client side. Only the local wheel index is reachable: name it, or pip retries for minutes.
if ! python3 -c 'import jupyter_client, nbclient, nbformat, nbconvert' 2>/dev/null || ! command -v jupyter >/dev/null; then
  idx=$(pip config get global.extra-index-url 2>/dev/null || true)
  first=$(echo "$idx" | awk '{print $1}'); second=$(echo "$idx" | awk '{print $2}')
  say "installing jupyter_client nbclient nbformat nbconvert from ${first:-the default index}"
  PIP_INDEX_URL="${first:-}" PIP_EXTRA_INDEX_URL="${second:-}" PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
    timeout 600 python3 -m pip install -q jupyter_client nbclient nbformat nbconvert 2>&1 \
    | { grep -v -e "^WARNING: Location '.*' is ignored" || true; }
  [ "${PIPESTATUS[0]}" = 0 ] || exit 1
fi

# 2. The jar and the kernelspec.
if [ ! -f "$jar" ]; then
  say "building $jar"
  (cd "$root" && mvn -B -q -DskipTests -pl kernel -am package)
fi
if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then java="$JAVA_HOME/bin/java"; else java="$(command -v java)"; fi
java="$(readlink -f "$java")"
"$java" -version 2>&1 | head -1 | grep -Eq '"(1[7-9]|[2-9][0-9])' || { say "need a JDK 17 or newer, found: $("$java" -version 2>&1 | head -1)"; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp "$jar" "$stage/kiln-kernel.jar"
write_kernel_json() { # $1 = folder the jar lives in (the installed kernelspec)
  cat > "$2" <<JSON
{
  "argv": ["$java",
           "-XX:SharedArchiveFile=$1/kiln-kernel.jsa", "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off",
           "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
           "-jar", "$1/kiln-kernel.jar", "{connection_file}"],
  "display_name": "Kiln (Java)",
  "language": "java",
  "interrupt_mode": "message",
  "env": {},
  "metadata": {"debugger": false}
}
JSON
}
write_kernel_json "{resource_dir}" "$stage/kernel.json"
jupyter kernelspec install --user --replace --name "$name" "$stage" 2>&1 | grep -v '^\[InstallKernelSpec\]' || true
dest="$(jupyter kernelspec list --json | python3 -c "import json,sys; print(json.load(sys.stdin)['kernelspecs']['$name']['resource_dir'])")"
# Absolute paths, for frontends that do not substitute {resource_dir} themselves.
write_kernel_json "$dest" "$dest/kernel.json"
say "installed $name at $dest"

# 3. The class archive, made against the installed jar (CDS checks the jar's path, size and time).
model="$root/../shared/models/digits_cnn_int8/digits_cnn_int8.tflite"
if timeout 180 "$java" -cp "$dest/kiln-kernel.jar" dev.kiln.kernel.bench.KernelBench --kernelspec "$dest" \
     --model "$model" --train-cds "$dest/kiln-kernel.jsa" >"$stage/cds.log" 2>&1 && [ -s "$dest/kiln-kernel.jsa" ]; then
  say "class archive $(du -h "$dest/kiln-kernel.jsa" | cut -f1) at $dest/kiln-kernel.jsa"
else
  rm -f "$dest/kiln-kernel.jsa"
  say "warning: no class archive (the kernel starts without it, slower):"; sed 's/^/  /' "$stage/cds.log" | tail -20
fi
