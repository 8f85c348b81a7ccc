#!/usr/bin/env bash
# Kafka mode against the broker's own limit, in one run on one Tansu broker (release build):
#  (a) transport: a bare rdkafka producer and consumer move the N normalized events (the events
#      topic's very messages: JSON, keys, headers) through the broker, concurrently
#      (examples/kafka_transport_bench.rs);
#  (b) Vigil: the same N native records go onto the raw topics (paced producer) while `vigil ingest`
#      -> events topic -> `vigil detect` (tally) and `vigil sink` -> Parquet lake run; timed from the
#      first raw record produced until the lake's Parquet files hold N rows. Also prints the CPU time
#      the broker and each service used meanwhile.
# Each run starts a fresh broker; the runs' medians are printed last (the goal is a ratio >= 0.5).
# Usage: bash bench/kafka.sh [identities] [days] [runs]   (default 600 x 2, about 105k events; 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vigil/target}"
cargo build --release --locked --quiet --bin vigil --example kafka_transport_bench
identities="${1:-600}"
days="${2:-2}"
runs="${3:-3}"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && bash deploy/scripts/tansu.sh stop "$pid"; rm -rf "$work"' EXIT
vigil="$CARGO_TARGET_DIR/release/vigil"
tansu_bin=$(command -v tansu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu")
echo "machine: $(nproc) cores; broker: $("$tansu_bin" --version 2>/dev/null | head -1), SQLite storage"

# The same records for both: (a) normalizes them itself, (b) gets them from the simulator on the topics.
"$vigil" simulate --emit - --identities "$identities" --days "$days" --seed 1 >"$work/raw.ndjson" 2>/dev/null

for run in $(seq 1 "$runs"); do
run_dir="$work/run-$run"
mkdir -p "$run_dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=$(bash deploy/scripts/tansu.sh start "$port" "$run_dir/broker")
echo "--- run $run of $runs (broker on 127.0.0.1:$port)"
broker_cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(broker_cpu)
"$CARGO_TARGET_DIR/release/examples/kafka_transport_bench" "127.0.0.1:$port" "$work/raw.ndjson" | tee "$run_dir/transport.txt"
echo "  broker cpu seconds meanwhile: $(python3 -c "import os; print(round(($(broker_cpu) - $before) / os.sysconf('SC_CLK_TCK'), 1))")"
cp "$work/raw.ndjson" "$run_dir/raw.ndjson"
python3 - "$vigil" "$run_dir" "127.0.0.1:$port" "$CARGO_TARGET_DIR/release/examples/kafka_transport_bench" "$(grep TRANSPORT_MSGS_PER_S "$run_dir/transport.txt" | cut -d= -f2)" "$pid" <<'PY' | tee -a "$run_dir/vigil.txt"
import glob, json, os, socket, subprocess, sys, time, urllib.request
import pyarrow.parquet as pq

vigil, work, brokers, example, transport, broker_pid = sys.argv[1:7]
transport = float(transport)

def cpu_seconds(pid):
    """User + system CPU time of a live process, from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def ready(listen):
    try:
        return urllib.request.urlopen(f"http://{listen}/readyz", timeout=2).status == 200
    except OSError:
        return False

def lake_rows(lake):
    rows = 0
    for f in glob.glob(f"{lake}/table=events/**/*.parquet", recursive=True):
        try:
            rows += pq.ParquetFile(f).metadata.num_rows
        except Exception:
            pass  # a file being written: counted at the next look
    return rows

def produce_raw(prefix):
    """The raw records onto `<prefix>aws|azure|gcp` with a paced producer (no message timeout, at most
    10,000 unacknowledged: `vigil simulate --emit kafka://` expires records after 30 s, and an expired
    record makes librdkafka bump the idempotent epoch, which Tansu 0.6 cannot handle)."""
    out = subprocess.run([example, "raw", brokers, f"{work}/raw.ndjson", prefix], check=True,
                         capture_output=True, text=True).stdout
    return int(out.split("RAW_RECORDS=")[1].split()[0])

def vigil_run(name, preloaded):
    """Vigil's three services on their own topics, groups and lake. `preloaded`: the raw topics are
    filled first and the clock starts when the services start (ingest -> ... -> lake only);
    otherwise the services are started and ready first and the clock includes producing the raw
    records concurrently. Returns (events, seconds, cpu seconds per process, raw produce seconds)."""
    base = f"{work}/{name}"
    env = dict(os.environ)
    env.pop("VIGIL_CONFIG", None)
    env.update({
        "VIGIL__KAFKA__BROKERS": brokers,
        "VIGIL__KAFKA__RAW_AWS_TOPIC": f"{name}.raw.aws",
        "VIGIL__KAFKA__RAW_AZURE_TOPIC": f"{name}.raw.azure",
        "VIGIL__KAFKA__RAW_GCP_TOPIC": f"{name}.raw.gcp",
        "VIGIL__KAFKA__EVENTS_TOPIC": f"{name}.events",
        "VIGIL__KAFKA__ALERTS_TOPIC": f"{name}.alerts",
        "VIGIL__KAFKA__INCIDENTS_TOPIC": f"{name}.incidents",
        "VIGIL__KAFKA__DEADLETTER_TOPIC": f"{name}.deadletter",
        "VIGIL__KAFKA__INGEST_GROUP": f"{name}-ingest",
        "VIGIL__KAFKA__DETECT_GROUP": f"{name}-detect",
        "VIGIL__KAFKA__SINK_GROUP": f"{name}-sink",
        "VIGIL__LAKE__DIR": f"{base}/lake",
        "VIGIL__SERVICES__CHECKPOINT_DIR": f"{base}/checkpoints",
        "VIGIL__SERVICES__INGEST_STATE_DIR": f"{base}/ingest-state",
        # The sink makes its buffer durable every second (default 5 s) so the clock does not wait up
        # to 5 s for the last partial batch; 50,000-event flushes and 10 s checkpoints stay default.
        "VIGIL__SERVICES__SINK_FLUSH_SECONDS": "1",
    })
    os.makedirs(base, exist_ok=True)
    raw_seconds = None
    if preloaded:
        started = time.perf_counter()
        events = produce_raw(f"{name}.raw.")
        raw_seconds = time.perf_counter() - started
    services = {}
    t0 = time.perf_counter()
    cpu0 = {"broker": cpu_seconds(broker_pid)}
    for svc, args in (("ingest", []), ("detect", ["--detector", "tally"]), ("sink", [])):
        listen = f"127.0.0.1:{free_port()}"
        log = open(f"{base}/{svc}.log", "w")
        env[f"VIGIL__SERVICES__{svc.upper()}_LISTEN"] = listen
        proc = subprocess.Popen([vigil, svc, *args], env=dict(env), stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL)
        services[svc] = (proc, listen)
        cpu0[svc] = 0.0
    if not preloaded:
        deadline = time.time() + 120
        for svc, (proc, listen) in services.items():
            while not ready(listen):
                if proc.poll() is not None or time.time() > deadline:
                    sys.exit(f"vigil {svc} did not become ready; log:\n" + open(f"{base}/{svc}.log").read())
                time.sleep(0.2)
        t0 = time.perf_counter()
        cpu0 = {"broker": cpu_seconds(broker_pid),
                **{svc: cpu_seconds(p.pid) for svc, (p, _) in services.items()}}
        events = produce_raw(f"{name}.raw.")
        raw_seconds = time.perf_counter() - t0
    while (rows := lake_rows(f"{base}/lake")) < events:
        if time.perf_counter() - t0 > 600:
            for proc, _ in services.values():
                proc.kill()
            for svc in services:
                print(f"--- {svc} log (tail) ---\n" + "".join(open(f"{base}/{svc}.log").readlines()[-15:]))
            sys.exit(f"lake holds {rows} of {events} events after 10 minutes")
        time.sleep(0.25)
    seconds = time.perf_counter() - t0
    cpu = {"broker": cpu_seconds(broker_pid) - cpu0["broker"],
           **{svc: cpu_seconds(p.pid) - cpu0[svc] for svc, (p, _) in services.items()}}
    for proc, _ in services.values():
        proc.terminate()
    for svc, (proc, _) in services.items():
        code = proc.wait(timeout=120)
        if code != 0:
            print(f"warning: vigil {svc} exited with {code} on SIGTERM")
    return events, seconds, cpu, raw_seconds

results = []
for name, preloaded, what in (
    ("live", False, "raw records produced while raw -> ingest -> events -> detect + sink -> lake"),
    ("backlog", True, "raw topics filled first; ingest -> events -> detect + sink -> lake"),
):
    events, seconds, cpu, raw_seconds = vigil_run(name, preloaded)
    rate = events / seconds
    results.append(rate / transport)
    print(f"vigil ({name}): {events} events, {what}: {seconds:.2f} s = {rate:.0f} events/s "
          f"(raw records produced in {raw_seconds:.2f} s)")
    print(f"  cpu seconds meanwhile: " + ", ".join(f"{n} {c:.1f}" for n, c in cpu.items()))
    print(f"  ratio vigil / transport = {rate:.0f} / {transport:.0f} = {rate / transport:.2f} (goal >= 0.5)")
print(f"RESULT {transport:.0f} {results[0]:.3f} {results[1]:.3f}")
PY
rm -f "$run_dir/raw.ndjson"
bash deploy/scripts/tansu.sh stop "$pid"
pid=""
done

cat "$work"/run-*/vigil.txt | python3 -c '
import statistics, sys
rows = [list(map(float, l.split()[1:])) for l in sys.stdin if l.startswith("RESULT ")]
t, live, backlog = (statistics.median(c) for c in zip(*rows))
print(f"median of {len(rows)} runs: transport {t:.0f} msg/s; ratio vigil / transport {live:.2f} live, "
      f"{backlog:.2f} from a backlog (goal >= 0.5); live ratios {sorted(round(x[1], 2) for x in rows)}, "
      f"backlog ratios {sorted(round(x[2], 2) for x in rows)}")
'
