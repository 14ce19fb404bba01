#!/usr/bin/python3
"""web_api.py URL: every /api/v1/ endpoint and the hostile cases against a
live minyi-web (run by 66-web-api.sh, which starts the pipeline and makes
the users M001, M002, cj (clerk chengjian), jk (clerk jiaoke), office
(staff)).  Prints "ok - ..." lines and "N passed, N failed"."""
import http.client, json, socket, sys, threading, time, urllib.parse

URL = urllib.parse.urlparse(sys.argv[1])
HOST, PORT = URL.hostname, URL.port
passed = failed = 0
BUS = '我们小区附近没有公交车站，居民出行很不方便，建议增开公交线路。'


def check(what, ok, got=None):
    global passed, failed
    if ok:
        passed += 1
        print('ok - ' + what)
    else:
        failed += 1
        print('not ok - %s (got %r)' % (what, got))
    sys.stdout.flush()


def request(method, path, body=None, headers=None, raw=None):
    """(status, headers dict, parsed JSON or text)."""
    c = http.client.HTTPConnection(HOST, PORT, timeout=20)
    h = dict(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if body is not None and 'Content-Type' not in h:
        h['Content-Type'] = 'application/json'
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read().decode('utf-8', 'replace')
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    try:
        return r.status, hdrs, json.loads(text)
    except ValueError:
        return r.status, hdrs, text


class User:
    def __init__(self, name, password):
        st, h, j = request('POST', '/api/v1/login', {'user': name, 'password': password})
        self.ok, self.status, self.cookie_header = st == 200, st, h.get('set-cookie', '')
        self.cookie = self.cookie_header.split(';')[0]
        self.csrf = j.get('csrf') if isinstance(j, dict) else None

    def get(self, path):
        return request('GET', '/api/v1/' + path, headers={'Cookie': self.cookie})

    def post(self, path, body=None, csrf=True, headers=None, raw=None):
        h = {'Cookie': self.cookie}
        if csrf:
            h['X-CSRF-Token'] = self.csrf if csrf is True else csrf
        h.update(headers or {})
        return request('POST', '/api/v1/' + path, body if body is not None else {}, h, raw)


def wait_for(fn, secs=15):
    end = time.time() + secs
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.1)
    return False


def logins():
    st, _, j = request('POST', '/api/v1/login', {'user': 'M001', 'password': 'wrong-password'})
    check('a wrong password: 401 unauthenticated', st == 401 and j['error'] == 'unauthenticated', st)
    m = User('M001', 'member-pass-1')
    check('login: 200', m.ok, m.status)
    check('the cookie is HttpOnly and SameSite=Strict, not Secure over http',
          'HttpOnly' in m.cookie_header and 'SameSite=Strict' in m.cookie_header and
          'Secure' not in m.cookie_header, m.cookie_header)
    st, _, j = request('GET', '/api/v1/reports')
    check('no session: 401', st == 401, st)
    st, _, j = request('GET', '/api/v1/me', headers={'Cookie': 'minyi_session=' + 'A' * 43})
    check('a made-up session: 401', st == 401, st)
    st, _, j = m.get('me')
    check('me: user, role and a CSRF token', st == 200 and j['role'] == 'member' and j['csrf'] == m.csrf, j)
    return m


def member_api(m):
    report = {'title': '关于增开公交线路的建议', 'body': BUS, 'ref': 'web-test-1'}
    st, _, j = m.post('reports', report, csrf=False)
    check('submit without a CSRF token: 403 csrf', st == 403 and j['error'] == 'csrf', (st, j))
    st, _, j = m.post('reports', report, csrf='x' * 43)
    check('submit with a wrong CSRF token: 403 csrf', st == 403 and j['error'] == 'csrf', (st, j))
    st, _, j = m.post('reports', report, headers={'Origin': 'http://evil.example'})
    check('submit from another origin: 403', st == 403, (st, j))
    st, _, j = m.post('reports', report)
    check('submit: 200 and an id', st == 200 and j.get('id'), (st, j))
    rid = j.get('id')
    st, _, j = m.post('reports', report)
    check('the same form sent again (same ref) is the same report',
          st == 200 and j.get('id') == rid and j.get('duplicate') is True, j)
    st, _, j = m.post('reports', None, raw=b'{"title": "x", "body": ')
    check('malformed JSON: 400 bad_json', st == 400 and j['error'] == 'bad_json', (st, j))
    st, _, j = m.post('reports', None, raw=b'title=x&body=y',
                      headers={'Content-Type': 'application/x-www-form-urlencoded'})
    check('a form body: 400', st == 400, (st, j))
    st, _, j = m.post('reports', None, raw=b'[1, 2]')
    check('a JSON array: 400', st == 400, (st, j))
    st, _, j = m.post('reports', {'title': 'x', 'body': 'y', 'topics': ['forged']})
    check('a field minyi writes: 400 bad_field', st == 400 and j['error'] == 'bad_field', (st, j))
    st, _, j = m.post('reports', {'title': 'x', 'body': 'y', 'member': 'M002'})
    check('filing as another member: 403', st == 403 and j['error'] == 'forbidden', (st, j))
    st, _, j = m.post('reports', {'title': '', 'body': 'y'})
    check('an empty title: 400 with the collector\'s reason naming the field',
          st == 400 and 'title' in j.get('detail', ''), (st, j))
    st, _, j = m.post('reports', None, raw=json.dumps({'title': 'x', 'body': 'y' * 100000}).encode())
    check('a body over the limit: 413 too_large', st == 413 and j['error'] == 'too_large', (st, j))
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    st, h, j = m.post('reports', {'title': evil, 'body': BUS + evil})
    check('HTML in a title is taken as text', st == 200, (st, j))
    return rid, j.get('id')


def member_reads(m, rid, evil_id):
    ok = wait_for(lambda: any(r['id'] == evil_id for r in m.get('reports')[2].get('reports', [])))
    st, h, j = m.get('reports')
    check('my reports list both, newest first', ok and [r['id'] for r in j['reports']][:2] == [evil_id, rid], j)
    check('answers are JSON, never HTML', h['content-type'].startswith('application/json'), h)
    check('the CSP header forbids inline script', "script-src 'self'" in h['content-security-policy'] and
          'unsafe-inline' not in h['content-security-policy'], h)
    st, _, j = m.get('reports/' + rid)
    check('show my report: 200 with history', st == 200 and j['report']['history'], (st, j))
    st, _, j = m.get('points')
    check('points: my own line of the audit', st == 200 and j['me']['member'] == 'M001', j)
    m2 = User('M002', 'member-pass-2')
    st, _, j = m2.get('reports/' + rid)
    check("another member's report: 403", st == 403, (st, j))
    st, _, j = m.get('reports/20990101-000000-000000')
    check('an unknown id: 404', st == 404, (st, j))
    st, _, j = m.get('reports/..%2F..%2Fetc%2Fpasswd')
    check('a path in the id: 404', st == 404, (st, j))
    for path in ('queue/chengjian', 'audit', 'status'):
        st, _, j = m.get(path)
        check('member GET %s: 403' % path, st == 403, (st, j))


def clerk_api(rid, other_id):
    cj, jk, staff = User('cj', 'clerk-pass-1'), User('jk', 'clerk-pass-2'), User('office', 'staff-pass-1')
    st, _, j = cj.get('reports')
    check('a clerk has no "my reports": 403', st == 403, st)
    st, h, _ = request('GET', '/staff', headers={'Cookie': cj.cookie})
    check("a clerk typing the staff page's URL is sent to login", st == 303 and h.get('location') == '/', st)
    st, h, _ = request('GET', '/clerk', headers={'Cookie': cj.cookie})
    check('its own page is served', st == 200 and h['content-type'].startswith('text/html'), st)
    st, _, j = cj.get('queue/chengjian')
    check('clerk reads its queue', st == 200 and rid in [r['id'] for r in j['reports']], j)
    st, _, j = jk.get('queue/chengjian')
    check("another committee's clerk: 403 on the queue", st == 403, st)
    st, _, j = jk.get('reports/' + rid)
    check("another committee's clerk: 403 on the report", st == 403, st)
    st, _, j = jk.post('reports/%s/ack' % rid, {'outcome': 'adopted'})
    check("another committee's clerk: 403 on ack", st == 403, st)
    st, _, j = staff.post('queue/chengjian/pull', {'limit': 1})
    check('staff may not pull: 403', st == 403, st)
    st, _, j = staff.get('queue/chengjian')
    check('staff read any queue', st == 200, st)
    st, _, j = cj.post('queue/chengjian/pull', {'limit': 5})
    check('pull leases to the clerk', st == 200 and all(r['lease_who'] == 'cj' for r in j['reports'])
          and j['reports'], j)
    st, _, j = cj.post('reports/%s/release' % rid)
    check('release: open again', st == 200 and j['state'] == 'open', j)
    st, _, j = cj.post('reports/%s/ack' % rid, {'outcome': 'adopted'})
    check('ack of a report whose lease the clerk gave back: 403 (take it first)', st == 403, (st, j))
    st, _, j = cj.post('queue/chengjian/pull', {'limit': 5})
    check('pull takes it again', st == 200 and rid in [r['id'] for r in j['reports']], j)
    st, _, j = cj.post('reports/%s/ack' % rid, {'outcome': 'maybe'})
    check('ack with an unknown outcome: 400', st == 400, (st, j))
    st, _, j = cj.post('reports/%s/ack' % rid, {'outcome': 'adopted', 'note': '已采用'})
    check('ack: closed', st == 200 and j['state'] == 'closed', j)
    st, _, j = cj.post('reports/%s/ack' % rid, {'outcome': 'filed'})
    check('ack of a closed report: 409 conflict', st == 409, (st, j))
    st, _, j = cj.post('reports/%s/reassign' % other_id, {'committee': 'jiaoke'})
    check('reassign to another committee', st == 200 and j['committee'] == 'jiaoke', (st, j))
    st, _, j = cj.get('reports/' + other_id)
    check('then its first clerk no longer sees it: 403', st == 403, st)
    st, _, j = jk.get('reports/' + other_id)
    check('and the new committee\'s clerk does', st == 200, st)
    st, _, j = cj.get('committees')
    check('committees: ids and names', st == 200 and any(c['committee'] == 'jiaoke' for c in j['committees']), j)
    st, _, j = cj.post('rules/test', {'title': '公交', 'body': BUS})
    check('rules test: where a text would go and why', st == 200 and j['committee'] == 'chengjian'
          and any(h['text'] == '公交车' for t in j['tags'] for h in t['hits']), (st, j))
    st, _, j = cj.post('rules/test', None, raw=b'{"body": "\xff\xfe"}')
    check('rules test of bytes that are not UTF-8: 400 bad_encoding', st == 400 and
          j['error'] == 'bad_encoding', (st, j))
    st, _, j = User('M001', 'member-pass-1').post('rules/test', {'body': BUS})
    check('a member may not run rules test: 403', st == 403, st)
    st, _, j = staff.get('audit')
    check('staff audit', st == 200 and j['audit']['total'] >= 2, (st, j))
    st, _, j = staff.get('audit?month=2026-13')
    check('a bad month: 400', st == 400, (st, j))
    st, _, j = staff.get('status')
    check('staff status: every daemon answers', st == 200 and all(j[d].get('ok') for d in
          ('archiver', 'collector', 'router')), j)
    st, _, j = staff.post('logout')
    st2, _, _ = staff.get('me')
    check('logout ends the session', st == 200 and st2 == 401, (st, st2))


def statics():
    st, h, text = request('GET', '/')
    check('the login page', st == 200 and h['content-type'].startswith('text/html'), st)
    for p in ('/static/../passwd.json', '/static/%2e%2e/passwd.json', '/static/..%2fpasswd.json',
              '/static/app.js/../../passwd.json', '//etc/passwd', '/static/', '/static/member.html',
              '/../../../../etc/passwd'):
        st, _, text = request('GET', p)
        check('traversal %s: 404, nothing leaked' % p, st == 404 and 'argon2' not in str(text) and
              'root:' not in str(text), (st, str(text)[:80]))
    st, h, _ = request('GET', '/member')
    check('a role page without a session redirects to login', st == 303 and h.get('location') == '/', st)


def floods():
    s = socket.create_connection((HOST, PORT))
    s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n' + b''.join(b'X-Flood-%d: %s\r\n' % (i, b'a' * 1000)
                                                          for i in range(200)) + b'\r\n')
    s.settimeout(10)
    try:
        first = s.recv(100)
    except OSError:
        first = b''
    s.close()
    check('a header flood is refused (431/413 or cut off)', first[9:12] in (b'431', b'413', b'400') or
          first == b'', first[:20])
    slow = []
    for _ in range(40):
        c = socket.create_connection((HOST, PORT))
        c.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ')
        slow.append(c)
    st, _, _ = request('GET', '/')
    check('40 slow clients do not stop the others', st == 200, st)
    slow[0].settimeout(30)
    t0 = time.time()
    try:
        got = slow[0].recv(100)
    except OSError:
        got = b'?'
    check('a silent client is cut off after the timeout (%.1f s)' % (time.time() - t0),
          got in (b'',) or got[9:12] in (b'408', b'400'), got[:20])
    for c in slow:
        c.close()


def many_sessions():
    out = []

    def one():
        u = User('M002', 'member-pass-2')
        out.append(u.ok and u.get('me')[0] == 200)
    ts = [threading.Thread(target=one) for _ in range(24)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check('24 concurrent logins, each its own working session', len(out) == 24 and all(out), out.count(True))


def throttle():
    codes = [request('POST', '/api/v1/login', {'user': 'jk', 'password': 'nope-%d' % i})[0]
             for i in range(4)]
    st, h, j = request('POST', '/api/v1/login', {'user': 'jk', 'password': 'clerk-pass-2'})
    check('after failed logins even the right password waits: 429 with Retry-After',
          codes[:3] == [401, 401, 401] and st == 429 and int(h.get('retry-after', 0)) >= 1, (codes, st, h))
    st, _, _ = request('GET', '/')
    check('and the daemon keeps serving', st == 200, st)


def main():
    statics()
    m = logins()
    rid, evil_id = member_api(m)
    member_reads(m, rid, evil_id)
    other = m.post('reports', {'title': '公交站台缺少遮雨棚', 'body': '小区门口公交车站台没有遮雨棚，雨天候车很不方便，建议增设。', 'ref': 'web-test-2'})[2]['id']
    wait_for(lambda: User('cj', 'clerk-pass-1').get('reports/' + other)[0] == 200)
    clerk_api(rid, other)
    many_sessions()
    floods()
    throttle()
    print('%d passed, %d failed' % (passed, failed))


main()
