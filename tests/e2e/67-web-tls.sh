# The web door over HTTPS (web.tls_cert/web.tls_key, libmicrohttpd with
# GnuTLS): minyi up prints an https:// URL, a login sets a Secure cookie,
# plain HTTP on that port gets no answer.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "not ok - openssl is not installed (scripts/deps.sh test)"; e2e_failed=1; finish; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1
E2E_WEB=", \"tls_cert\": \"$T/cert.pem\", \"tls_key\": \"$T/key.pem\"" write_config
web_user member-pass-1 M001 member M001
start_pipeline
u=$(web_url)
check "the URL is https" grep -q '^https://127.0.0.1:' <<<"$u"
cookie=$(curl -s --cacert "$T/cert.pem" -D - -o /dev/null -H 'Content-Type: application/json' \
    -d '{"user":"M001","password":"member-pass-1"}' "${u}api/v1/login" | grep -i '^set-cookie:')
check "the session cookie is Secure, HttpOnly, SameSite=Strict" \
    grep -q 'HttpOnly; SameSite=Strict; Secure' <<<"$cookie"
check "the login page over TLS" curl -sf --cacert "$T/cert.pem" "$u"
check_eq "plain HTTP gets no page" "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${u/https/http}")" 000
finish
