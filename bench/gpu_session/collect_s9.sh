# Session 9: wait up to $1 seconds for bg_s9.sh's marker $2 (blocks, ens or all), then bring back what it has written:
# the runs' results, the ensembles' JSON, the logs, and every scored CSV cut to id, gold and log-probabilities.
set -u
t=$(date +%s); while [ ! -f /tmp/s9/$2.done ] && [ $(( $(date +%s) - t )) -lt $1 ]; do sleep 5; done
for p in blocks curve; do cp /tmp/s9/$p/results.json $OUT/embedded_${p}_h200_s9.json 2>/dev/null; done
cp /tmp/ens9/results.json $OUT/embedded_ensembles_h200_s9.json 2>/dev/null
for f in /tmp/s9/*.log; do grep -v "^    \|it/s\]" $f > $OUT/$(basename $f .log)_s9.log; done
python3 - <<'PY'
import csv, pathlib, tarfile
root, keep = pathlib.Path("/tmp/ens9"), ["id", "gold", "logprob_entailment", "logprob_neutral", "logprob_contradiction"]
with tarfile.open("/tmp/predictions_s9.tgz", "w:gz") as tar:
    for path in sorted(root.glob("*/*/*.csv")):
        if "confusion" in path.name:
            continue
        cut = pathlib.Path("/tmp/csv9") / path.relative_to(root)
        cut.parent.mkdir(parents=True, exist_ok=True)
        with path.open(newline="") as f, cut.open("w", newline="") as g:
            writer = csv.writer(g)
            writer.writerow(keep)
            writer.writerows([row[k] for k in keep] for row in csv.DictReader(f))
        tar.add(cut, arcname=str(path.relative_to(root)))
PY
cp /tmp/predictions_s9.tgz $OUT/ 2>/dev/null
ls /tmp/s9; cat /tmp/s9/s9.log
grep "exit" /tmp/s9/blocks.log /tmp/s9/curve.log 2>/dev/null | cut -c1-160 | tail -30
tail -25 /tmp/s9/ens2.log 2>/dev/null || tail -25 /tmp/s9/ens.log 2>/dev/null
