#!/usr/bin/env bash
# bench.sh: builds the benchmarks in Release, runs them all, gathers their
# figures and plots them. See docs/benchmarks.md.
#
#   scripts/bench.sh [--quick] [--out DIR] [--no-build] [--build-dir DIR]
#   scripts/bench.sh --plot-only DIR    # gather and plot an existing DIR again
#
# Results go to results/<UTC date-time>/ (or --out DIR): per program
# <name>.txt (its table), <name>.csv and <name>-samples.csv; then
# figures.csv and samples.csv (all programs), *.dat and *.png (the plots),
# meta.txt (what ran where). Exits non-zero if any program failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
plots="$root/benchmarks/plot"

# The programs, in the order they run; those that take --samples.
programs=(bench_throughput bench_engine bench_latency bench_footprint bench_scale bench_core bench_makespan bench_workspace bench_slurm)
with_samples=" bench_engine bench_latency "
figures_header="workload,case,competitor,metric,value,unit"
samples_header="workload,case,competitor,value,unit"

usage() { sed -n '5,6s/^# \{0,1\}//p' "$0"; }

quick=0 out="" plot_only="" build=1 build_dir="$root/build-bench"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --plot-only) plot_only=${2:?--plot-only needs a directory}; shift ;;
    --no-build) build=0 ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

note() { echo "bench.sh: $*" >&2; }

# Concatenates the per-program files of DIR into figures.csv and samples.csv,
# one header each; skips (with a note) files whose header is not the long form.
gather() {
  local dir=$1 f want to
  echo "$figures_header" >"$dir/figures.csv.tmp"
  echo "$samples_header" >"$dir/samples.csv.tmp"
  for f in "$dir"/*.csv; do
    [ -e "$f" ] || continue
    case ${f##*/} in
      figures.csv | samples.csv) continue ;;
      *-samples.csv) want=$samples_header to=samples ;;
      *) want=$figures_header to=figures ;;
    esac
    if [ "$(head -n 1 "$f" | tr -d '\r')" != "$want" ]; then
      note "skipping ${f##*/}: its header is not '$want'"
      continue
    fi
    tail -n +2 "$f" | tr -d '\r' | grep -v '^$' >>"$dir/$to.csv.tmp" || true
  done
  mv "$dir/figures.csv.tmp" "$dir/figures.csv"
  mv "$dir/samples.csv.tmp" "$dir/samples.csv"
}

# Reshapes figures.csv and samples.csv of DIR with awk and plots them.
plot() {
  local dir=$1 term subtitle
  if ! command -v gnuplot >/dev/null; then
    note "gnuplot is not installed; no plots (install gnuplot-nox)"
    return 0
  fi
  # pngcairo draws better; plain png (libgd) otherwise.
  term=png
  if gnuplot -e "set terminal" 2>&1 | grep -qw pngcairo; then term=pngcairo; fi
  subtitle="${dir##*/}"
  [ -f "$dir/meta.txt" ] && subtitle="${dir##*/}, $(sed -n 's/^summary: //p' "$dir/meta.txt")"
  subtitle=${subtitle//\'/}  # it goes inside a gnuplot '...' string
  rm -f "$dir"/throughput.dat "$dir"/throughput.png "$dir"/latency-*.dat "$dir"/latency.png

  # Throughput: tasks per second against -j.
  awk -f "$plots/throughput.awk" "$dir/figures.csv" >"$dir/throughput.dat"
  if grep -qv '^#' "$dir/throughput.dat"; then
    local jobs tasks
    jobs=$(sed -n 's/^# jobs: *//p' "$dir/throughput.dat")
    tasks=$(sed -n 's/^# tasks: *//p' "$dir/throughput.dat")
    if (cd "$dir" && gnuplot -e "datafile='throughput.dat'; outfile='throughput.png'; \
term='$term'; jobs='$jobs'; tasks='$tasks'; subtitle='$subtitle'" "$plots/throughput.gp"); then
      echo "plot: $dir/throughput.png"
    else
      note "throughput plot failed"
    fi
  else
    rm -f "$dir/throughput.dat"
    note "no throughput rows with tasks_per_s in figures.csv; no throughput.png"
  fi

  # Latency: one empirical CDF per (workload, case, competitor), a panel per
  # (workload, unit).
  local panels files="" workloads="" units="" colours="" dashes="" w u f c d
  panels=$(cd "$dir" && awk -f "$plots/series.awk" samples.csv |
    LC_ALL=C sort -t "$(printf '\t')" -k1,1n -k2,2g | awk -f "$plots/latency.awk")
  if [ -n "$panels" ]; then
    while IFS=$'\t' read -r w u f c d; do
      workloads+="$w " units+="$u " files+="$f " colours+="$c " dashes+="$d "
    done <<<"$panels"
    if (cd "$dir" && gnuplot -e "datafiles='$files'; workloads='$workloads'; units='$units'; \
colours='$colours'; dashes='$dashes'; outfile='latency.png'; term='$term'; \
subtitle='$subtitle'" "$plots/latency.gp"); then
      echo "plot: $dir/latency.png"
    else
      note "latency plot failed"
    fi
  else
    note "no samples in samples.csv; no latency.png"
  fi
}

if [ -n "$plot_only" ]; then
  [ -d "$plot_only" ] || { note "no directory $plot_only"; exit 1; }
  dir=$(cd "$plot_only" && pwd)
  gather "$dir"
  plot "$dir"
  echo "Results: $dir"
  exit 0
fi

# 1. Packages (gnuplot and GNU parallel are optional: the benchmarks compare
# against GNU parallel when it is there) and the Release build.
extras=()
command -v gnuplot >/dev/null || extras+=(gnuplot-nox)
parallel --version 2>/dev/null | grep -q "GNU parallel" || extras+=(parallel)
if [ ${#extras[@]} -gt 0 ]; then
  "$here/setup-deps.sh" "${extras[@]}" || note "could not install ${extras[*]}; going on without"
fi
if [ "$build" = 1 ]; then
  "$here/build.sh" "$build_dir" -DCMAKE_BUILD_TYPE=Release -DMAESTRO_BUILD_TESTS=OFF \
    -DMAESTRO_BUILD_BENCHMARKS=ON
fi
bin="$build_dir/benchmarks"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
[ "$build_type" = Release ] || note "warning: $build_dir is a '${build_type:-unknown}' build, not Release"

# 2. The results folder.
if [ -z "$out" ]; then
  out="$root/results/$(date -u +%Y-%m-%dT%H%MZ)"
  base=$out n=2
  while [ -e "$out" ]; do out="$base-$n" n=$((n + 1)); done  # a second run this minute
fi
if [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  note "$out is not empty: any *.csv already there is gathered too"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "build: $build_dir ($build_type)"
  echo "quick: $quick"
  echo "host: $(uname -n) $(uname -sr), $(nproc) CPUs"
  echo "load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  echo "summary: $(nproc) CPUs, $build_type$([ "$quick" = 1 ] && echo ', --quick')"
} >"$out/meta.txt"

# 3. The programs, one after the other (they measure time: never in parallel).
failed=() missing=() ran=()
# Line-buffered stdout, so that the tables show as they are printed.
linebuf=()
command -v stdbuf >/dev/null && linebuf=(stdbuf -oL)
for name in "${programs[@]}"; do
  if [ ! -x "$bin/$name" ]; then
    note "$name: not built (no $bin/$name); skipped"
    missing+=("$name")
    continue
  fi
  args=(--csv "$out/$name.csv")
  [[ $with_samples == *" $name "* ]] && args+=(--samples "$out/$name-samples.csv")
  [ "$quick" = 1 ] && args+=(--quick)
  echo "=== $name ${args[*]}"
  ran+=("$name")
  start=$SECONDS
  if "${linebuf[@]}" "$bin/$name" "${args[@]}" | tee "$out/$name.txt"; then
    echo "=== $name: done in $((SECONDS - start)) s"
  else
    status=${PIPESTATUS[0]}
    note "$name failed (exit status $status) after $((SECONDS - start)) s"
    failed+=("$name")
  fi
  echo
done
# SPEC's own throughput case, in the full run: 10,000 tasks at -j8.
if [ "$quick" = 0 ] && [ -x "$bin/bench_throughput" ]; then
  name=bench_throughput-10000
  echo "=== $name"
  ran+=("$name")
  if "${linebuf[@]}" "$bin/bench_throughput" --tasks 10000 --jobs 8 --workload throughput_10000 \
    --csv "$out/$name.csv" | tee "$out/$name.txt"; then
    :
  else
    note "$name failed"
    failed+=("$name")
  fi
  echo
fi
echo "load average at end: $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo unknown)" >>"$out/meta.txt"

# 4-5. Gather and plot.
gather "$out"
plot "$out"

# 6. Where it all is.
echo
echo "Results: $out"
[ ${#ran[@]} -eq 0 ] || echo "  tables: ${ran[*]/%/.txt}"
echo "  figures: $out/figures.csv ($(($(wc -l <"$out/figures.csv") - 1)) rows)"
[ ${#missing[@]} -eq 0 ] || echo "  not built: ${missing[*]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "  FAILED: ${failed[*]}"
  exit 1
fi
