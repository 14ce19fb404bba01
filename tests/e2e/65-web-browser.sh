# The web door in a real browser (tests/e2e/web_browser.py, Selenium and
# headless Chromium on a 390x844 window): a member files and follows a
# report, a clerk closes it, another clerk is refused, staff see the audit
# chart.  Screenshots: build/web-*.png (checked non-blank).
. "$(dirname "$0")/lib.sh"
if ! command -v chromedriver >/dev/null || ! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
    echo "not ok - chromium-driver or python3-selenium missing (scripts/deps.sh test installs them)"
    e2e_failed=1; finish
fi
web_user member-pass-1 M001 member M001
web_user clerk-pass-1 cj clerk chengjian
web_user clerk-pass-2 jk clerk jiaoke
web_user staff-pass-1 office staff
start_pipeline
shots=${BUILD:-$ROOT/build}
mkdir -p "$shots"
rm -f "$shots"/web-*.png
/usr/bin/python3 "$(dirname "$0")/web_browser.py" "$(web_url)" "$shots" >"$T/browser.out" 2>&1
cat "$T/browser.out"
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$T/browser.out" | tail -n 1)
if [ -z "$last" ]; then
    e2e_failed=$((e2e_failed + 1)); echo "not ok - the browser test did not finish"
else
    e2e_passed=$((e2e_passed + ${last%% passed*})); f=${last#*, }; e2e_failed=$((e2e_failed + ${f%% failed*}))
fi
check "the closing is in the archive" \
    sql_is "closed|adopted" "SELECT state || '|' || outcome FROM reports WHERE member = 'M001'"
finish
