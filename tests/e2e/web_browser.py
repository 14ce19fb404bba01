#!/usr/bin/python3
"""web_browser.py URL SHOTS_DIR: the web door in headless Chromium on a
phone-sized window, driven by Selenium (run by 65-web-browser.sh, which
starts the pipeline and makes the users).

A member files a report and sees it; the routed committee's clerk takes it
and closes it as adopted with a note; the member sees the outcome and the
note; a clerk of another committee gets 403 for its id; staff open the audit
and the chart is drawn.  Each page's screenshot goes to SHOTS_DIR and must
not be blank.  Prints "ok - ..." lines and "N passed, N failed"."""
import struct, sys, time, zlib
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

URL, SHOTS = sys.argv[1].rstrip('/'), sys.argv[2]
TITLE = '<b>小区附近</b>没有公交车站'
NOTE = '已采用，转交市交通运输局研究'
passed = failed = 0


def check(what, ok):
    global passed, failed
    if ok:
        passed += 1
        print('ok - ' + what)
    else:
        failed += 1
        print('not ok - ' + what)
    sys.stdout.flush()


def pixels(png):
    """(width, height, rows of RGB tuples) of a PNG (8-bit RGB or RGBA)."""
    pos, idat = 8, b''
    while pos < len(png):
        n, kind = struct.unpack('>I4s', png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, _, ctype = struct.unpack('>IIBB', body[:10])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride, i = zlib.decompress(idat), w * bpp, 0
    prev, rows = bytearray(stride), []
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def shot(d, name, show=None):
    """Save a screenshot (scrolled to element id show); 1 if it is not blank
    (many colours, much ink)."""
    if show:
        d.execute_script('arguments[0].scrollIntoView()', d.find_element(By.ID, show))
    png = d.get_screenshot_as_png()
    with open('%s/web-%s.png' % (SHOTS, name), 'wb') as f:
        f.write(png)
    w, h, rows = pixels(png)
    colours = {p for r in rows[::4] for p in r[::4]}
    bg = max(colours, key=lambda c: sum(r[::4].count(c) for r in rows[::4]))
    ink = sum(1 for r in rows[::4] for p in r[::4] if p != bg)
    return len(colours) > 8 and ink > (w * h // 16) // 100


def wait(d, cond, secs=15):
    try:
        WebDriverWait(d, secs, poll_frequency=0.2).until(lambda _: cond())
        return True
    except Exception:
        return False


def login(d, user, password, page):
    d.get(URL + '/')
    d.delete_all_cookies()
    d.get(URL + '/')
    wait(d, lambda: d.find_element(By.ID, 'user'))
    d.find_element(By.ID, 'user').send_keys(user)
    d.find_element(By.ID, 'password').send_keys(password)
    d.find_element(By.ID, 'login-submit').click()
    return wait(d, lambda: d.current_url.endswith('/' + page) and
                d.find_element(By.ID, 'who').text == user)


def text(d, id_):
    return d.find_element(By.ID, id_).text


def api_status(d, path):
    """The HTTP status of GET /api/v1/path from the page (its cookie)."""
    return d.execute_async_script(
        'const done = arguments[arguments.length - 1];'
        'fetch("/api/v1/" + arguments[0]).then(r => done(r.status), () => done(0));', path)


def member_files(d):
    d.get(URL + '/')
    check('the login page is drawn', wait(d, lambda: d.find_element(By.ID, 'login-submit')) and
          shot(d, 'login'))
    check('member logs in on a phone-sized window', login(d, 'M001', 'member-pass-1', 'member'))
    d.find_element(By.ID, 'file-submit').click()
    check('an empty title is refused next to the field', text(d, 'title-error') == '请填写标题')
    d.find_element(By.ID, 'title').send_keys(TITLE)
    d.find_element(By.ID, 'body').send_keys('我们小区附近没有公交车站，居民出行很不方便，建议增开公交线路。')
    d.find_element(By.ID, 'file-submit').click()
    check('the report is accepted with an id', wait(d, lambda: '已报送' in text(d, 'file-ok')))
    rid = text(d, 'file-ok').split()[-1]
    ok = wait(d, lambda: (d.refresh() or True) and TITLE in text(d, 'mine'), 20)
    check('it is in my reports, its title as text', ok)
    check('markup in the title is not markup', not d.find_elements(By.CSS_SELECTOR, '#mine b'))
    check('member page screenshot is not blank', shot(d, 'member', 'mine'))
    return rid


def clerk_closes(d, rid):
    check('clerk logs in', login(d, 'cj', 'clerk-pass-1', 'clerk'))
    check('the report is in the committee queue',
          wait(d, lambda: (d.refresh() or True) and TITLE in text(d, 'queue'), 20))
    d.find_element(By.ID, 'pull').click()
    check('take: the report is leased and opened',
          wait(d, lambda: rid in text(d, 'detail-body') and '办理中' in text(d, 'detail-body')))
    check('why it was routed is shown', '分办依据' in text(d, 'detail-body') and
          '公交' in text(d, 'detail-body'))
    d.find_element(By.ID, 'note').send_keys(NOTE)
    d.find_element(By.ID, 'close-submit').click()
    check('closed as adopted with the note',
          wait(d, lambda: '已办结' in text(d, 'detail-body') and NOTE in text(d, 'detail-body')))
    check('clerk page screenshot is not blank', shot(d, 'clerk'))


def member_sees(d, rid):
    check('member logs in again', login(d, 'M001', 'member-pass-1', 'member'))
    check('my reports show the outcome and the note',
          wait(d, lambda: '采用' in text(d, 'mine') and NOTE in text(d, 'mine')))
    d.find_element(By.CSS_SELECTOR, '#mine a').click()
    check('the history shows the clerk closing it',
          wait(d, lambda: '办结 · cj' in text(d, 'detail-body')))
    check('member outcome screenshot is not blank', shot(d, 'member-outcome', 'detail'))


def other_clerk(d, rid):
    check('a clerk of another committee logs in', login(d, 'jk', 'clerk-pass-2', 'clerk'))
    check('it gets 403 for the report', api_status(d, 'reports/' + rid) == 403)
    check("and 403 for the other committee's queue", api_status(d, 'queue/chengjian') == 403)
    check('other clerk screenshot is not blank', shot(d, 'other-clerk'))


def staff_audit(d):
    check('staff log in', login(d, 'office', 'staff-pass-1', 'staff'))
    check('the audit chart is drawn',
          wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, '#chart rect')) > 0))
    check('status lists the daemons', wait(d, lambda: 'collector' in text(d, 'status')))
    png = d.find_element(By.ID, 'chart').screenshot_as_png
    _, _, rows = pixels(png)
    bars = sum(1 for r in rows for p in r if abs(p[0] - 0x8b) < 12 and p[1] < 48 and p[2] < 48)
    print('# bar-coloured pixels in the chart: %d' % bars)
    check('the chart has bars on screen', bars > 20)
    check('staff page screenshot is not blank', shot(d, 'staff'))


def main():
    opts = webdriver.ChromeOptions()
    for a in ('--headless', '--no-sandbox', '--disable-gpu', '--window-size=390,844',
              '--disable-dev-shm-usage'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(options=opts)
    try:
        rid = member_files(d)
        clerk_closes(d, rid)
        member_sees(d, rid)
        other_clerk(d, rid)
        staff_audit(d)
        csp = [e['message'] for e in d.get_log('browser') if 'Content Security Policy' in e['message']]
        check('no Content-Security-Policy violations (%s)' % csp[:1], not csp)
    except Exception as e:
        check('browser run ended early: %r' % e, False)
    finally:
        d.quit()
    print('%d passed, %d failed' % (passed, failed))


main()
