#!/usr/bin/env bash
# Trains a detector staged by `python -m citywatch.training.<model> --stage DIR` on a GPU machine
# that has PyTorch but no citywatch environment (docs/MODELS.md, the weapon card), several runs at
# once on the one GPU. Run from the repository root there:
#
#   STAGE=.gpu/weapon RUNS="640:15:0 640:15:1" OUT=/path/for/results bash scripts/train_staged_on_gpu.sh
#
# RUNS: "imgsz:epochs:seed" per run; WORKERS data loader processes per run (default 4); LIMIT
# seconds per run (default 480); DEVICE the CUDA index (default 0; `cpu` to try the script
# without a GPU). WHEELS: a folder of wheels installed first into /tmp/site
# (Ultralytics and ultralytics-thop, downloaded beforehand: the machine has no network).
# Each run leaves $OUT/<stage name>_<imgsz>_<epochs>_<seed>.tar with last.pt, job.json and the log;
# copy it back and export it here: python -m citywatch.training.<model> --trained <untarred folder>.
set -u
: "${STAGE:?folder written by --stage}" "${RUNS:?imgsz:epochs:seed ...}" "${OUT:?where the results go}"
WORKERS=${WORKERS:-4} LIMIT=${LIMIT:-480} DEVICE=${DEVICE:-0}
if [ -n "${WHEELS:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
python3 -c "import torch, ultralytics; print(torch.__version__, ultralytics.__version__, torch.cuda.is_available())" || exit 1
name=$(basename "$STAGE")
for spec in $RUNS; do
  IFS=: read -r imgsz epochs seed <<< "$spec"
  run=${name}_${imgsz}_${epochs}_${seed}
  (
    timeout "$LIMIT" python3 -m citywatch.training.yolo_train "$STAGE" --out "/tmp/$run" --device "$DEVICE" \
      --imgsz "$imgsz" --epochs "$epochs" --seed "$seed" --workers "$WORKERS" > "/tmp/$run.log" 2>&1
    echo "$run: exit $?"
    mkdir -p "/tmp/$run.result" && cp "/tmp/$run.log" "/tmp/$run.result/log.txt"
    cp "/tmp/$run/last.pt" "/tmp/$run/job.json" "/tmp/$run.result/" 2>/dev/null
    tar -C "/tmp/$run.result" -cf "$OUT/$run.tar" .
  ) &
done
wait
ls -la "$OUT"
