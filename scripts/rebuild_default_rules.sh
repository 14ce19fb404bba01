#!/bin/bash
# rebuild_default_rules.sh: write config/rules.json, the default routing
# rules: the curated topics of make_default_rules.py (all 15 categories,
# everyday words, readable), followed by one learned-* topic per category
# that `minyi rules learn` trains jointly on the development set (15
# categories, hand-written) and the real citizen training part (7 of them):
# each learned pattern occurs in at least 5 messages, at most 200 a topic,
# heaviest first, a comment saying how it was learned.  The real messages
# are read from ../shared/data at run time and never copied; without them
# this script stops and config/rules.json is left as it is.
#   scripts/rebuild_default_rules.sh            (after make)
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${MINYI_CITIZEN_TRAIN:-../shared/data/citizen-train.jsonl}
[ -r "$REAL" ] || { echo "rebuild_default_rules: $REAL is absent; config/rules.json unchanged" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
python3 scripts/make_default_rules.py "$T/curated.json"
{ jq -c '{id, title, body, label: .category}' tests/data/dev-reports.jsonl; cat "$REAL"; } >"$T/labelled.jsonl"
bin/minyi rules learn "$T/labelled.jsonl" --label-field label --merge "$T/curated.json" \
    --max-patterns 200 -o "$T/rules.json"
# The learned topics weigh 1.1, which kept the curated topics of the 8
# categories the real messages never use from taking them while the
# development set stayed above 0.90 (with the passive-aggressive learner:
# 0.850 right at 1.0, 0.865 at 1.1; 0.913 of the development set, 0.891 at
# 1.2).  With the logistic learner at 1.1: 0.919 of the real messages (the
# 8 take 2.0% of them), 0.942 of the development set.
python3 - "$T/rules.json" config/rules.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for t in d["topics"]:
    if t["id"].startswith("learned-"):
        t["weight"] = 1.1
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(d, f, ensure_ascii=False, indent=1)
    f.write("\n")
PY
bin/minyi rules check config/rules.json
