# throughput.awk: figures.csv (long form) -> gnuplot data blocks, one per
# competitor, of the `throughput` workload:
#   <title>                       (block header, read by columnheader(1))
#   j <TAB> tasks/s <TAB> low <TAB> high
# low/high come from max_s/min_s (tasks / seconds) when the file has them.
# Two comment lines first: "# tasks: N..." and "# jobs: J...".
# Portable awk (mawk).
BEGIN { FS = ","; OFS = "\t" }
NR == 1 || $1 != "throughput" || NF < 6 { next }
{
  # The competitor is what lies between the case and the last three fields
  # (names should hold no commas, but keep them together if they do).
  c = $3; for (i = 4; i <= NF - 3; i++) c = c "," $i
  gsub(/^ +| +$/, "", c)
  metric = $(NF - 2); value = $(NF - 1)
  j = field($2, "j"); n = field($2, "n")
  if (j == "" || j + 0 <= 0) next
  key = c SUBSEP n
  if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key; comp[key] = c; tasks[key] = n }
  if (!((key, j) in has)) { has[key, j] = 1; js[key] = js[key] " " j }
  if (!(n in nseen)) { nseen[n] = 1; nlist = nlist (nlist == "" ? "" : " ") n; nn++ }
  if (!(j in jseen)) { jseen[j] = 1; jlist = jlist " " j }
  v[metric, key, j] = value
}
# The value of `name=` in a case such as "j=8 n=2000"; "" when absent.
function field(s, name,   k, parts, i) {
  k = split(s, parts, " ")
  for (i = 1; i <= k; i++) if (index(parts[i], name "=") == 1) return substr(parts[i], length(name) + 2)
  return ""
}
# Sorts the numbers in the space-separated list s; returns them space-separated.
function sorted(s,   a, k, i, m, t, out) {
  k = split(s, a, " ")
  for (i = 2; i <= k; i++) { t = a[i]; for (m = i - 1; m >= 1 && a[m] + 0 > t + 0; m--) a[m + 1] = a[m]; a[m + 1] = t }
  for (i = 1; i <= k; i++) out = out (i > 1 ? " " : "") a[i]
  return out
}
END {
  print "# tasks: " nlist
  print "# jobs: " sorted(jlist)
  blocks = 0
  for (o = 1; o <= nkeys; o++) {
    key = order[o]; n = tasks[key]
    k = split(sorted(js[key]), jj, " ")
    rows = ""
    for (i = 1; i <= k; i++) {
      j = jj[i]
      if (!(("tasks_per_s", key, j) in v)) continue
      tps = v["tasks_per_s", key, j]; lo = tps; hi = tps
      if (n + 0 > 0 && v["max_s", key, j] + 0 > 0) lo = n / v["max_s", key, j]
      if (n + 0 > 0 && v["min_s", key, j] + 0 > 0) hi = n / v["min_s", key, j]
      rows = rows j OFS tps OFS lo OFS hi "\n"
    }
    if (rows == "") continue
    if (blocks++) printf "\n\n"
    print comp[key] (nn > 1 ? ", n=" n : "")
    printf "%s", rows
  }
}
