# The audit page in a real browser: headless Chromium opens it offline,
# logs no console message, and the charts are drawn (the screenshot holds
# the bars' colour over a real area).  The screenshot is left in
# build/audit-screenshot.png for a person to look at.
. "$(dirname "$0")/lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "not ok - chromium is not installed (scripts/deps.sh test installs it)"; e2e_failed=1; finish
fi
start_pipeline
for i in 1 2 3 4 5 6; do
    printf '{"member":"M0%02d","title":"关于小区物业乱收费的建议 %d","body":"物业公司擅自提高物业费标准，业主意见很大。"}' $((i * 7)) "$i" >"$T/p$i.json"
    printf '{"member":"M1%02d","title":"孩子上学学位不够 %d","body":"学校班额太大，学位紧张。"}' "$i" "$i" >"$T/s$i.json"
    minyi submit "$T/p$i.json" >/dev/null; minyi submit "$T/s$i.json" >/dev/null
done
check "twelve archived" wait_until 10 sql_is 12 "SELECT count(*) FROM reports"
check "html written" minyi audit --format html -o "$T/audit.html"

shot=${BUILD:-$ROOT/build}/audit-screenshot.png
rm -f "$shot"
# --no-sandbox: CI runs as root; the page has no scripts and is a local file
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1200,1800 --enable-logging=stderr --v=0 \
    --screenshot="$shot" "file://$T/audit.html" >"$T/chromium.out" 2>"$T/chromium.err"
check "chromium wrote a screenshot" test -s "$shot"
check_eq "no console messages" "$(grep -c 'CONSOLE' "$T/chromium.err")" 0
# Count pixels of the bar colour #3b7dd8 in the PNG (plain zlib decoding).
bars=$(/usr/bin/python3 - "$shot" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
pos, idat, w = 8, b'', 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
bpp = 4 if ctype == 6 else 3
raw, stride = zlib.decompress(idat), w * bpp
prev, out, i = bytearray(stride), 0, 0
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    out += sum(1 for x in range(0, stride, bpp)
               if abs(line[x] - 0x3b) < 8 and abs(line[x + 1] - 0x7d) < 8 and abs(line[x + 2] - 0xd8) < 8)
    prev = line
print(out)
PY
)
echo "# bar-coloured pixels in the screenshot: $bars"
check "the charts are drawn (over 5,000 bar pixels)" test "${bars:-0}" -gt 5000
finish
