#!/usr/bin/python3
"""web_load.py URL N CLIENTS QUEUE_GETS: the web door under load (bench/web.sh).

Logs in as member M001 and clerk cj-bench once per client, then files N
reports through POST /api/v1/reports from CLIENTS threads, each on one
keep-alive connection; every report routes to chengjian (a transport
title and body, unique per report), so its queue ends with N open reports.
Then a clerk reads the queue page (GET /api/v1/queue/chengjian, 100
oldest) QUEUE_GETS times.  Prints one JSON line.  Python's threads may
bound the rate before minyi-web does: the figure is a floor."""
import http.client, json, sys, threading, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
N, CLIENTS, GETS = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def conn():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=30)


def call(c, method, path, body=None, headers=None):
    h = {'Content-Type': 'application/json'} if body is not None else {}
    h.update(headers or {})
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, r.getheader('Set-Cookie'), data


def login(c, user, password):
    st, cookie, data = call(c, 'POST', '/api/v1/login', {'user': user, 'password': password})
    assert st == 200, data
    return {'Cookie': cookie.split(';')[0], 'X-CSRF-Token': json.loads(data)['csrf']}


failed = [0]


def client(k, count, heads):
    c = conn()
    for i in range(count):
        r = {'title': '公交站点设置建议 %d-%d' % (k, i),
             'body': '小区附近没有公交车站，居民出行很不方便，建议增开公交线路 %d-%d。' % (k, i),
             'ref': 'bench-web-%d-%d' % (k, i)}
        st, _, _ = call(c, 'POST', '/api/v1/reports', r, heads)
        if st != 200:
            failed[0] += 1
    c.close()


def main():
    c = conn()
    heads = login(c, 'M001', 'bench-member-pw')
    per = [N // CLIENTS + (1 if k < N % CLIENTS else 0) for k in range(CLIENTS)]
    ts = [threading.Thread(target=client, args=(k, per[k], heads)) for k in range(CLIENTS)]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    secs = time.time() - t0
    clerk = login(c, 'cj-bench', 'bench-clerk-pw')
    open_n = 0
    while open_n < N - failed[0]:               # wait until the archive has them all
        st, _, data = call(c, 'GET', '/api/v1/queue/chengjian?limit=1', None, clerk)
        open_n = json.loads(data).get('open', 0)
        time.sleep(0.2)
    lat = []
    for _ in range(GETS):
        t = time.perf_counter()
        st, _, data = call(c, 'GET', '/api/v1/queue/chengjian', None, clerk)
        lat.append((time.perf_counter() - t) * 1000)
        assert st == 200
    lat.sort()
    print(json.dumps({'reports': N, 'clients': CLIENTS, 'failed': failed[0], 'seconds': round(secs, 2),
                      'reports_per_s': round(N / secs), 'queue_open': open_n,
                      'queue_page_bytes': len(data), 'queue_p50_ms': round(lat[len(lat) // 2], 2),
                      'queue_p99_ms': round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2)}))


main()
