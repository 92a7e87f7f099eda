# Session 4, calls 6-8, on a fresh machine: the pipeline alone again, the way a regular install runs it. Call 5 showed
# (evaluate_cprofile_s4.txt) that every stage process compiled ~3,800 source files: the bundles install with
# --no-compile and the image writes no bytecode, so no stage ever reused a .pyc (a pip install compiles them once).
# Call 6 (bundle b1 + data): install, data, what the interpreter's bytecode settings are.
set -u
bash .gpu/b1/install.sh > /dev/null || exit 1
mkdir -p /tmp/snli && cp data/raw/snli/*.jsonl /tmp/snli/
echo "PYTHONDONTWRITEBYTECODE=${PYTHONDONTWRITEBYTECODE:-unset}"; python3 -c "import sys; print('dont_write_bytecode', sys.flags.dont_write_bytecode)"
