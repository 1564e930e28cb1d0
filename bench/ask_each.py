"""Asks a server for every distinct path of a paths file once, from a few clients at once, and
prints one line that bench/catalog.sh reads:

    first: requests N seconds S p50_us X p99_us Y max_us Z non200 N

Every answer is then one the server has not given before (the catalog's results are cached per
request), so this is the cost of new queries; it also leaves every path of the file cached, so
that the wrk run after it measures the mix as it repeats, whatever its length.

    python3 bench/ask_each.py HOST:PORT PATHS_FILE [CLIENTS]
"""

import http.client
import sys
import threading
import time


def main():
    addr, paths_file = sys.argv[1], sys.argv[2]
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    host, port = addr.rsplit(":", 1)
    paths = list(dict.fromkeys(line.strip() for line in open(paths_file) if line.strip()))
    latencies, bad = [], [0]
    lock = threading.Lock()
    todo = iter(paths)

    def client():
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while True:
            with lock:
                path = next(todo, None)
            if path is None:
                return
            start = time.perf_counter()
            conn.request("GET", path, headers={"Accept": "application/json"})
            res = conn.getresponse()
            res.read()
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                if res.status != 200:
                    bad[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    at = lambda q: int(latencies[min(len(latencies) - 1, int(len(latencies) * q))] * 1e6)
    print(
        f"first: requests {len(latencies)} seconds {seconds:.2f} p50_us {at(0.5)} "
        f"p99_us {at(0.99)} max_us {int(latencies[-1] * 1e6)} non200 {bad[0]}"
    )


if __name__ == "__main__":
    main()
