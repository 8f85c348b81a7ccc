#!/usr/bin/env bash
# Tansu, the Kafka-compatible broker the tests run against (one binary, SQLite storage).
#
#   tansu.sh install          build and install Tansu with cargo unless `tansu` is already installed
#                             (about 15-20 minutes on 2 cores, once per machine)
#   tansu.sh start PORT DIR   start a broker on 127.0.0.1:PORT storing in DIR/tansu.db, in the
#                             background (log: DIR/tansu.log); waits until it answers a metadata
#                             request, adds the index its SQLite schema lacks, then prints its pid
#   tansu.sh stop PID         stop a broker started by `start` (killed if not gone within 10 s)
set -euo pipefail

TANSU_VERSION=0.6.0

tansu_bin() {
    if command -v tansu >/dev/null 2>&1; then
        command -v tansu
    elif [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tansu" ]; then
        echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
    else
        return 1
    fi
}

# Sends a Kafka Metadata (v1) request and checks the reply names at least one broker.
probe() {
    python3 - "$1" "$2" <<'PY'
import socket, struct, sys
host, port = sys.argv[1], int(sys.argv[2])
client = b"tansu.sh"
body = struct.pack(">hhih", 3, 1, 42, len(client)) + client + struct.pack(">i", -1)
try:
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    s.sendall(struct.pack(">i", len(body)) + body)
    def read(n):
        out = b""
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                raise OSError("connection closed")
            out += chunk
        return out
    size, = struct.unpack(">i", read(4))
    resp = read(size)
except OSError as e:
    sys.exit(f"no answer: {e}")
corr, brokers = struct.unpack(">ii", resp[:8])
if corr != 42 or brokers < 1:
    sys.exit(f"unexpected metadata reply: correlation id {corr}, {brokers} brokers")
PY
}

# Tansu 0.6's SQLite schema has no index on its `header` table, yet its fetch looks up the headers of
# every record it returns: each lookup scans every header ever stored, so consumption slows
# quadratically with the data kept (measured by hand: under a 98k-message backlog the broker served
# ~100 records/s and stopped answering heartbeats). With this index, bench/kafka.sh takes a 107k
# backlog through ingest, detect and sink in about 20 s.
index_headers() {
    python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.execute("create index if not exists header_topition_offset on header (topition, offset_id)")
db.commit()
PY
}

case "${1:-}" in
install)
    if bin=$(tansu_bin); then
        echo "tansu is installed: $bin ($("$bin" --version))"
        exit 0
    fi
    echo "installing tansu $TANSU_VERSION with cargo (the Kafka-compatible broker of the Kafka tests; takes a while)"
    # Its own target folder: kept apart from the project's build cache, and an interrupted install
    # resumes where it stopped.
    CARGO_TARGET_DIR="${TANSU_TARGET_DIR:-$HOME/.cache/vigil/tansu-target}" \
        cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore,libsql
    ;;
start)
    port=${2:?usage: tansu.sh start PORT DIR}
    dir=${3:?usage: tansu.sh start PORT DIR}
    bin=$(tansu_bin) || { echo "error: tansu is not installed; run: bash $0 install" >&2; exit 1; }
    mkdir -p "$dir"
    # Tansu resolves sqlite:// paths against its working directory.
    (cd "$dir" && exec "$bin" broker \
        --listener-url "tcp://127.0.0.1:$port" \
        --advertised-listener-url "tcp://127.0.0.1:$port" \
        --storage-engine sqlite://tansu.db \
        >tansu.log 2>&1) &
    pid=$!
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: tansu exited at start:" >&2
            cat "$dir/tansu.log" >&2
            exit 1
        fi
        if probe 127.0.0.1 "$port" 2>/dev/null; then
            index_headers "$dir/tansu.db" || { kill "$pid" 2>/dev/null; exit 1; }
            echo "$pid"
            exit 0
        fi
        sleep 0.2
    done
    echo "error: tansu did not answer on 127.0.0.1:$port within 20 s:" >&2
    cat "$dir/tansu.log" >&2
    kill "$pid" 2>/dev/null || true
    exit 1
    ;;
stop)
    pid=${2:?usage: tansu.sh stop PID}
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || exit 0
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 install | start PORT DIR | stop PID" >&2
    exit 2
    ;;
esac
