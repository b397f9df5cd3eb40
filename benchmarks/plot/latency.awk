# latency.awk: samples (long form) -> one gnuplot data file per
# (workload, unit), "latency-<workload>-<unit>.dat" in the current directory,
# holding one block per (case, competitor) series:
#   <title>                       (block header, read by columnheader(1))
#   value <TAB> fraction of samples <= value   (the empirical CDF)
# Input: the samples as series.awk prints them, sorted by series, then by
# value:
#   series <TAB> value <TAB> workload <TAB> unit <TAB> case <TAB> competitor
# Prints one line per file written:
#   workload <TAB> unit <TAB> file <TAB> colours <TAB> dashes
# where colours and dashes hold one digit per block: the colour follows the
# competitor (1-8), the dash pattern the case (1-5).
# Portable awk (mawk).
BEGIN { FS = "\t"; OFS = "\t" }
{
  if ($1 != current) { flush(); current = $1; n = 0; sw = $3; su = $4; sc = $5; scomp = $6 }
  if ($2 + 0 > 0) vals[++n] = $2; else skipped++   # a log axis cannot show 0
}
# The nearest-rank quantile p of vals[1..n] (sorted), as bench.hpp computes it.
function q(p,   r) { r = int(p * n) + 1; if (r > n) r = n; return vals[r] }
function flush(   file, i) {
  if (n == 0) return
  file = "latency-" safe(sw) "-" safe(su) ".dat"
  if (file in blocks) printf "\n\n" > file
  else { files[++nfiles] = file; fw[file] = sw; fu[file] = su }
  blocks[file]++
  if (!((file, scomp) in ncomp)) ncomp[file, scomp] = ++ncomps[file]
  if (!((file, sc) in ncase)) ncase[file, sc] = ++ncases[file]
  colours[file] = colours[file] ((ncomp[file, scomp] - 1) % 8 + 1)
  dashes[file] = dashes[file] ((ncase[file, sc] - 1) % 5 + 1)
  printf "%s%s (n=%d, p50 %s, p99 %s)\n", (sc == "" ? "" : sc ": "), scomp, n, num(q(0.5)), num(q(0.99)) > file
  print vals[1], 0 > file
  for (i = 1; i <= n; i++) print vals[i], i / n > file
}
# About three significant digits, without exponents.
function num(x) { return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.3g", x) }
function safe(s) { gsub(/[^A-Za-z0-9_.-]/, "_", s); return s }
END {
  flush()
  for (i = 1; i <= nfiles; i++) {
    f = files[i]; close(f)
    print fw[f], fu[f], f, colours[f], dashes[f]
  }
  if (skipped) printf "latency.awk: skipped %d samples <= 0 (log axis)\n", skipped > "/dev/stderr"
}
