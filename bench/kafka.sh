#!/usr/bin/env bash
# Kafka mode against the broker's own limit, in one run on one Tansu broker (release build):
#  (a) transport: a bare rdkafka producer and consumer move the JSON of the N normalized events (the
#      events topic's very messages) through the broker, concurrently (examples/kafka_transport_bench.rs);
#  (b) Vigil: the same N native records (`vigil simulate --emit -`) go onto the raw topics (paced),
#      `vigil ingest` -> events topic -> `vigil detect` (tally) and `vigil sink` -> Parquet lake; timed
#      from the first raw record produced until the lake's Parquet files hold N rows.
# Prints both rates and their ratio (the goal is >= 0.5).
# Usage: bash bench/kafka.sh [identities] [days]   (default 560 x 2: about 100k events)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --release --locked --quiet --bin vigil --example kafka_transport_bench
identities="${1:-560}"
days="${2:-2}"
work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=$(bash deploy/scripts/tansu.sh start "$port" "$work/broker")
trap 'bash deploy/scripts/tansu.sh stop "$pid"; rm -rf "$work"' EXIT
vigil="$CARGO_TARGET_DIR/release/vigil"
tansu_bin=$(command -v tansu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu")
echo "machine: $(nproc) cores; broker: $("$tansu_bin" --version 2>/dev/null | head -1) on 127.0.0.1:$port (sqlite storage)"

# The same records for both: (a) normalizes them itself, (b) gets them from the simulator on the topics.
"$vigil" simulate --emit - --identities "$identities" --days "$days" --seed 1 >"$work/raw.ndjson" 2>/dev/null
"$CARGO_TARGET_DIR/release/examples/kafka_transport_bench" "127.0.0.1:$port" "$work/raw.ndjson" | tee "$work/transport.txt"

python3 - "$vigil" "$work" "127.0.0.1:$port" "$CARGO_TARGET_DIR/release/examples/kafka_transport_bench" "$(grep TRANSPORT_MSGS_PER_S "$work/transport.txt" | cut -d= -f2)" <<'PY'
import glob, json, os, socket, subprocess, sys, time, urllib.request
import pyarrow.parquet as pq

vigil, work, brokers, example, transport = sys.argv[1:6]
transport = float(transport)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

env = dict(os.environ)
env.update({
    "VIGIL__KAFKA__BROKERS": brokers,
    "VIGIL__LAKE__DIR": f"{work}/lake",
    "VIGIL__SERVICES__CHECKPOINT_DIR": f"{work}/checkpoints",
    "VIGIL__SERVICES__INGEST_STATE_DIR": f"{work}/ingest-state",
    # The sink makes its buffer durable every second (default 5 s) so the clock does not wait up to
    # 5 s for the last partial batch; 50,000-event flushes and 10 s checkpoints stay at their defaults.
    "VIGIL__SERVICES__SINK_FLUSH_SECONDS": "1",
})
env.pop("VIGIL_CONFIG", None)
services = {}
for name, args in (("ingest", []), ("detect", ["--detector", "tally"]), ("sink", [])):
    listen = f"127.0.0.1:{free_port()}"
    log = open(f"{work}/{name}.log", "w")
    env[f"VIGIL__SERVICES__{name.upper()}_LISTEN"] = listen
    services[name] = (subprocess.Popen([vigil, name, *args], env=dict(env),
                                       stdout=log, stderr=log, stdin=subprocess.DEVNULL), listen)

def ready(listen):
    try:
        return urllib.request.urlopen(f"http://{listen}/readyz", timeout=2).status == 200
    except OSError:
        return False

deadline = time.time() + 120
for name, (proc, listen) in services.items():
    while not ready(listen):
        if proc.poll() is not None or time.time() > deadline:
            sys.exit(f"vigil {name} did not become ready; log:\n" + open(f"{work}/{name}.log").read())
        time.sleep(0.2)

def lake_rows():
    rows = 0
    for f in glob.glob(f"{work}/lake/events/**/*.parquet", recursive=True):
        try:
            rows += pq.ParquetFile(f).metadata.num_rows
        except Exception:
            pass  # a file being written: counted at the next look
    return rows

t0 = time.perf_counter()
# The raw records go on with a paced producer (no message timeout, at most 10,000 unacknowledged):
# `vigil simulate --emit kafka://` expires records after 30 s, which a loaded Tansu exceeds, and an
# expired record makes librdkafka bump the idempotent epoch, which Tansu 0.6 cannot handle.
out = subprocess.run([example, "raw", brokers, f"{work}/raw.ndjson"], check=True,
                     capture_output=True, text=True).stdout
emitted_at = time.perf_counter() - t0
events = int(out.split("RAW_RECORDS=")[1].split()[0])
while (rows := lake_rows()) < events:
    if time.perf_counter() - t0 > 600:
        for name, (proc, _) in services.items():
            proc.kill()
        for name in services:
            print(f"--- {name} log (tail) ---\n" + "".join(open(f"{work}/{name}.log").readlines()[-15:]))
        sys.exit(f"lake holds {rows} of {events} events after 10 minutes")
    time.sleep(0.25)
seconds = time.perf_counter() - t0
for name, (proc, _) in services.items():
    proc.terminate()
for name, (proc, _) in services.items():
    code = proc.wait(timeout=120)
    if code != 0:
        print(f"warning: vigil {name} exited with {code} on SIGTERM")
vigil_rate = events / seconds
print(f"vigil: {events} events; raw records produced in {emitted_at:.2f} s; "
      f"raw -> ingest -> events -> detect + sink -> lake in {seconds:.2f} s = {vigil_rate:.0f} events/s "
      f"(lake rows {rows})")
print(f"ratio vigil / transport = {vigil_rate:.0f} / {transport:.0f} = {vigil_rate / transport:.2f} (goal >= 0.5)")
PY
