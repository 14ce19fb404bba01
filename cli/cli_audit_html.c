/* cli_audit_html.c: the audit as one self-contained HTML page for the
 * office -- inline CSS, charts drawn here as inline SVG, no scripts, no
 * fonts or images from the network, so it opens offline and prints well.
 * The numbers are the archiver's; this file only draws them. */
#include "cli.h"
#include "xmalloc.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTML_BARS_MAX 20          /* bars per chart; the rest are summed */
#define HTML_LABEL_COLS 20        /* label width in display columns */

struct html_bar {
    const char *label;            /* borrowed from the audit */
    double value;
};

static const char html_style[] =
    "body{font-family:\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\","
    "\"WenQuanYi Zen Hei\",sans-serif;"
    "max-width:1100px;margin:2em auto;padding:0 1em;color:#222;background:#f6f7f9}"
    "h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.15em;margin:0 0 .6em}"
    ".sub{color:#666;margin:0}"
    ".cards{display:flex;flex-wrap:wrap;gap:1em;margin:1.5em 0}"
    ".card{background:#fff;border:1px solid #dde;border-radius:8px;padding:.8em 1.4em;"
    "min-width:9em}.card .v{font-size:2em;font-weight:bold}.card .l{color:#666}"
    ".card.bad{border-color:#e3a39c}.card.bad .v{color:#c0392b}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1em}"
    "section{background:#fff;border:1px solid #dde;border-radius:8px;padding:1em;"
    "margin:1em 0;break-inside:avoid}"
    "table{border-collapse:collapse;width:100%}th,td{padding:.3em .6em;text-align:left;"
    "border-bottom:1px solid #eee}th{background:#f0f2f5}.n{text-align:right}"
    "tr.under td{background:#fdecea}.mark{color:#c0392b;font-weight:bold}"
    "h2.inline{display:inline}summary{cursor:pointer}ul.under{columns:2;margin:.5em 0 0}ul.under li{color:#c0392b;margin:.2em 0}"
    "svg{max-width:100%;height:auto}svg text{font-size:12px;fill:#333}"
    ".empty{color:#888}@media print{body{background:#fff}}";

static void html_text(FILE *f, const char *s)
{
    char *e = cli_text_html(s);
    fputs(e, f);
    free(e);
}

static int html_bar_cmp(const void *a, const void *b)
{
    double x = ((const struct html_bar *)a)->value, y = ((const struct html_bar *)b)->value;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Bars from an audit array: label from `key` (or `alt`), value from count.
 * Sorted, at most HTML_BARS_MAX, the rest summed as "其他".  Caller frees. */
static struct html_bar *html_collect(const cJSON *rows, const char *key, const char *alt,
                                     size_t *n)
{
    const cJSON *r;
    size_t cap = (size_t)cJSON_GetArraySize(rows) + 1, k = 0;
    struct html_bar *bars = xcalloc(cap, sizeof *bars);
    cJSON_ArrayForEach(r, rows) {
        bars[k].label = cli_json_str(r, key, alt ? cli_json_str(r, alt, "?") : "?");
        bars[k++].value = cli_json_num(r, "count", 0);
    }
    qsort(bars, k, sizeof *bars, html_bar_cmp);
    if (k > HTML_BARS_MAX) {
        double rest = 0;
        for (size_t i = HTML_BARS_MAX - 1; i < k; i++)
            rest += bars[i].value;
        bars[HTML_BARS_MAX - 1] = (struct html_bar){"其他", rest};
        k = HTML_BARS_MAX;
    }
    *n = k;
    return bars;
}

/* A horizontal bar chart in its own section. */
static void html_bars(FILE *f, const char *title, const struct html_bar *bars, size_t n)
{
    const int label_w = 160, bar_w = 300, row_h = 24;
    double max = 0;
    char num[64];
    for (size_t i = 0; i < n; i++)
        max = bars[i].value > max ? bars[i].value : max;
    fprintf(f, "<section><h2>%s</h2>\n", title);
    if (n == 0) {
        fputs("<p class=\"empty\">无数据</p></section>\n", f);
        return;
    }
    int svg_w = label_w + bar_w + 60, svg_h = (int)n * row_h + 8;
    fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-label=\"%s\">\n", svg_w, svg_h, svg_w, svg_h, title);
    for (size_t i = 0; i < n; i++) {
        int y = (int)i * row_h + 4, w = max > 0 ? (int)(bars[i].value / max * bar_w + 0.5) : 0;
        char *label = cli_text_truncate(bars[i].label, HTML_LABEL_COLS);
        cJSON *v = cJSON_CreateNumber(bars[i].value);
        const char *val = cli_json_text(v, num, sizeof num);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w - 6, y + 13);
        html_text(f, label);
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" rx=\"2\" "
                   "fill=\"#3b7dd8\"><title>", label_w, y, w < 1 && bars[i].value > 0 ? 1 : w);
        html_text(f, bars[i].label);
        fprintf(f, ": %s</title></rect><text x=\"%d\" y=\"%d\">%s</text>\n", val,
                label_w + w + 4, y + 13, val);
        cJSON_Delete(v);
        free(label);
    }
    fputs("</svg></section>\n", f);
}

static void html_chart(FILE *f, const cJSON *audit, const char *title, const char *array,
                       const char *key, const char *alt)
{
    size_t n;
    struct html_bar *bars = html_collect(cJSON_GetObjectItemCaseSensitive(audit, array), key,
                                         alt, &n);
    html_bars(f, title, bars, n);
    free(bars);
}

/* The 12-month trend as columns; the audited month is highlighted. */
static void html_trend(FILE *f, const cJSON *audit)
{
    const cJSON *t, *trend = cJSON_GetObjectItemCaseSensitive(audit, "trend");
    const char *month = cli_json_str(audit, "month", "");
    int n = cJSON_GetArraySize(trend), i = 0;
    const int left = 10, width = 640, height = 200, base = 170;
    double max = 0;
    fputs("<section><h2>近12个月报送趋势</h2>\n", f);
    if (n == 0) {
        fputs("<p class=\"empty\">无数据</p></section>\n", f);
        return;
    }
    cJSON_ArrayForEach(t, trend)
        max = cli_json_num(t, "count", 0) > max ? cli_json_num(t, "count", 0) : max;
    int slot = (width - left) / n, bar = slot * 7 / 10;
    fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
               "aria-label=\"趋势\">\n"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>\n",
            width, height, width, height, left, base, width, base);
    cJSON_ArrayForEach(t, trend) {
        char num[64];
        const char *m = cli_json_str(t, "month", "");
        double v = cli_json_num(t, "count", 0);
        int h = max > 0 ? (int)(v / max * (base - 30) + 0.5) : 0, x = left + i++ * slot;
        const char *val = cli_json_text(cJSON_GetObjectItemCaseSensitive(t, "count"), num,
                                        sizeof num);
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>",
                x, base - h, bar, h, strcmp(m, month) ? "#9db8e0" : "#3b7dd8");
        html_text(f, m);
        fprintf(f, ": %s</title></rect>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s"
                   "</text><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
                val, x + bar / 2, base - h - 4, val, x + bar / 2, base + 16);
        html_text(f, strlen(m) == 7 ? m + 2 : m);       /* "26-11" fits under a column */
        fputs("</text>\n", f);
    }
    fputs("</svg></section>\n", f);
}

static void html_card(FILE *f, const char *value, const char *label, int bad)
{
    fprintf(f, "<div class=\"card%s\"><div class=\"v\">", bad ? " bad" : "");
    html_text(f, value);
    fprintf(f, "</div><div class=\"l\">%s</div></div>\n", label);
}

static void html_cards(FILE *f, const cJSON *audit, int under)
{
    const cJSON *q, *quotas = cJSON_GetObjectItemCaseSensitive(audit, "quotas");
    const cJSON *outcomes = cJSON_GetObjectItemCaseSensitive(audit, "outcomes");
    char buf[64];
    int met = 0, nquotas = cJSON_GetArraySize(quotas);
    cJSON_ArrayForEach(q, quotas)
        met += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "met"));
    fputs("<div class=\"cards\">\n", f);
    html_card(f, cli_json_text(cJSON_GetObjectItemCaseSensitive(audit, "total"), buf, sizeof buf),
              "本月报送", 0);
    snprintf(buf, sizeof buf, "%d", under);
    html_card(f, buf, "未达配额委员", under > 0);
    snprintf(buf, sizeof buf, "%d / %d", met, nquotas);
    html_card(f, buf, "配额规则达标", met < nquotas);
    if (cJSON_GetObjectItemCaseSensitive(outcomes, "adopted"))
        html_card(f, cli_json_text(cJSON_GetObjectItemCaseSensitive(outcomes, "adopted"), buf,
                                   sizeof buf), "采用", 0);
    fputs("</div>\n", f);
}

/* The list of members under quota (`under` of them), highlighted. */
static void html_under(FILE *f, const cJSON *audit, int under)
{
    const cJSON *m;
    char ytd[32], quota[32];
    if (under == 0) {
        fputs("<section><h2>未达配额的委员（0）</h2><p>全部委员均已达到配额。</p></section>\n", f);
        return;
    }
    /* a long list (early in the year everyone is under) stays folded */
    fprintf(f, "<section><details%s><summary><h2 class=\"inline\">未达配额的委员（%d）</h2>"
               "</summary>\n<ul class=\"under\">\n", under <= 20 ? " open" : "", under);
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(audit, "members")) {
        if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "met")))
            continue;
        fputs("<li>✗ ", f);
        html_text(f, cli_json_str(m, "member", "?"));
        fputs(" ", f);
        html_text(f, cli_json_str(m, "name", ""));
        fputs("（", f);
        html_text(f, cli_json_str(m, "sector", ""));
        fputs("，", f);
        html_text(f, cli_json_str(m, "group", ""));
        fprintf(f, "）本年 %s / 配额 %s</li>\n",
                cli_json_text(cJSON_GetObjectItemCaseSensitive(m, "ytd"), ytd, sizeof ytd),
                cli_json_text(cJSON_GetObjectItemCaseSensitive(m, "quota"), quota, sizeof quota));
    }
    fputs("</ul></details></section>\n", f);
}

/* A table of an audit array; columns "key:header", a header starting with
 * '#' is a number.  Rows with met == false get class "under". */
static void html_table(FILE *f, const char *title, const cJSON *rows, const char *const *cols,
                       size_t ncols)
{
    const cJSON *r;
    char buf[64];
    fprintf(f, "<section><h2>%s</h2>\n<table><tr>", title);
    for (size_t i = 0; i < ncols; i++)
        fprintf(f, "<th%s>%s</th>", cols[i][0] == '#' ? " class=\"n\"" : "",
                strchr(cols[i], ':') + 1);
    fputs("</tr>\n", f);
    cJSON_ArrayForEach(r, rows) {
        const cJSON *met = cJSON_GetObjectItemCaseSensitive(r, "met");
        fprintf(f, "<tr%s>", cJSON_IsFalse(met) ? " class=\"under\"" : "");
        for (size_t i = 0; i < ncols; i++) {
            const char *key = cols[i] + (cols[i][0] == '#');
            char *k = xstrndup(key, (size_t)(strchr(key, ':') - key));
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, k);
            fprintf(f, "<td%s>", cols[i][0] == '#' ? " class=\"n\"" : "");
            if (!strcmp(k, "met") && cJSON_IsBool(v))
                fputs(cJSON_IsTrue(v) ? "✓" : "<span class=\"mark\">✗ 未达</span>", f);
            else
                html_text(f, cli_json_text(v, buf, sizeof buf));
            fputs("</td>", f);
            free(k);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table></section>\n", f);
}

static void html_head(FILE *f, const cJSON *audit, const char *org)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&now, &tm));
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
    html_text(f, org);
    fputs(" 社情民意信息统计 ", f);
    html_text(f, cli_json_str(audit, "month", ""));
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", html_style);
    html_text(f, org);
    fputs(" 社情民意信息月度统计</h1>\n<p class=\"sub\">", f);
    html_text(f, cli_json_str(audit, "month", ""));
    fputs(" · 时区 ", f);
    html_text(f, cli_json_str(audit, "timezone", ""));
    fprintf(f, " · 生成于 %s</p>\n", when);
}

int cli_audit_html(FILE *f, const cJSON *audit, const char *organisation)
{
    static const char *const member_cols[] = {
        "member:编号", "name:姓名", "sector:界别", "group:活动组", "#count:本月",
        "#adopted:采用", "#ytd:本年累计", "#quota:配额", "#points:积分", "met:达标"};
    static const char *const quota_cols[] = {"rule:规则", "scope:范围", "id:对象",
                                             "period:周期", "#min:最低", "#count:已报/达标数",
                                             "#of:共", "met:达标"};
    static const char *const supervision_cols[] = {
        "committee:专委会", "#take_up_days:承办时限（天）", "#close_days:办结时限（天）",
        "#overdue:当前逾期", "#closed:本月办结", "#median_days_to_close:办结天数中位数",
        "#closed_in_time:按时办结", "#in_time_share:按时办结率"};
    const cJSON *m, *members = cJSON_GetObjectItemCaseSensitive(audit, "members");
    int under = 0;
    cJSON_ArrayForEach(m, members)
        under += cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "met"));
    const char *org = cli_json_str(audit, "organisation", organisation ? organisation : "");
    html_head(f, audit, org);
    html_cards(f, audit, under);
    fputs("<div class=\"grid\">\n", f);
    html_chart(f, audit, "按专委会", "committees", "name", "committee");
    html_chart(f, audit, "按主题", "topics", "name", "topic");
    html_chart(f, audit, "按活动组", "groups", "group", NULL);
    html_chart(f, audit, "按界别", "sectors", "sector", NULL);
    fputs("</div>\n", f);
    html_trend(f, audit);
    html_under(f, audit, under);
    html_table(f, "配额", cJSON_GetObjectItemCaseSensitive(audit, "quotas"), quota_cols,
               sizeof quota_cols / sizeof quota_cols[0]);
    html_table(f, "督办", cJSON_GetObjectItemCaseSensitive(audit, "supervision"),
               supervision_cols, sizeof supervision_cols / sizeof supervision_cols[0]);
    html_table(f, "委员", members, member_cols, sizeof member_cols / sizeof member_cols[0]);
    fputs("</body>\n</html>\n", f);
    return ferror(f) ? -1 : 0;
}
