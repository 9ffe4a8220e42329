"""The home-grown script payrun replaces, as a peer for `cargo bench --bench pay`.

16 threads, each with one keep-alive `http.client` connection, post every row of a RohoPay CSV
to `POST /api/v1/disburse` with a fresh uuid4 `Idempotency-Key`; no journal, no retries.
Usage: python3 script.py FILE BASE_URL [THREADS]. Prints `sent N in S s` on the last line.
"""

import csv
import http.client
import json
import sys
import threading
import time
import urllib.parse
import uuid


def main():
    path, base = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    url = urllib.parse.urlparse(base)
    lock = threading.Lock()
    queue = iter(rows)
    sent = [0]

    def worker():
        conn = http.client.HTTPConnection(url.hostname, url.port)
        while True:
            with lock:
                row = next(queue, None)
            if row is None:
                break
            body = json.dumps(
                {
                    "phone": row["phone"],
                    "amount": int(row["amount"]),
                    "currency": row["currency"],
                    "description": row["description"],
                }
            )
            conn.request(
                "POST",
                "/api/v1/disburse",
                body=body,
                headers={
                    "Authorization": "Bearer live_peer",
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            answer = conn.getresponse()
            answer.read()
            if answer.status < 300:
                with lock:
                    sent[0] += 1
        conn.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    print(f"sent {sent[0]} in {time.monotonic() - started:.3f} s")


if __name__ == "__main__":
    main()
