# latency.gp: empirical CDFs of latency samples, one panel per (workload,
# unit), one step line per (case, competitor), from the files latency.awk
# writes.
#   gnuplot -e "datafiles='latency-watch-ms.dat ...'; workloads='watch ...'; \
#               units='ms ...'; colours='12 ...'; dashes='11 ...'; \
#               outfile='latency.png'; term='pngcairo'; subtitle='...'" latency.gp
# The lists are space-separated and line up word for word, one word per
# panel; a word of colours/dashes holds one digit per series (data block):
# its line type (1-8) and dash type (1-5).
if (!exists("outfile")) outfile = "latency.png"
if (!exists("subtitle")) subtitle = ""
panels = words(datafiles)
# Each panel's height grows with its legend (one line per series).
panel_px(p) = 400 + 22 * strlen(word(colours, p))
top_px = (subtitle eq "") ? 50 : 75
height = top_px; do for [p=1:panels] { height = height + panel_px(p) }
width = 1000
# common.gp sits next to this script.
plotdir = ""; rest = ARG0
while (strstrt(rest, "/") > 0) { k = strstrt(rest, "/"); plotdir = plotdir . rest[1:k]; rest = rest[k+1:] }
load plotdir . "common.gp"

# What each known workload measures.
describe(w) = (w eq "exit_to_launch") ? "a child's exit to the next launch (bench_engine)" : \
              (w eq "watch") ? "a file change to the reaction (bench_latency)" : w
unitname(u) = (u eq "us") ? "µs" : u

set multiplot title "Latency distributions (empirical CDF)" . \
    ((subtitle eq "") ? "" : "\n" . subtitle) font ",13"
set logscale x 10
set format x "%g"
set yrange [0:1.02]
set ytics 0, 0.1, 1
set ylabel "fraction of samples <= x"
set key outside below left vertical Left reverse maxcols 1 samplen 3 spacing 1.1
used = top_px
do for [p=1:panels] {
  f = word(datafiles, p); w = word(workloads, p); u = word(units, p)
  cs = word(colours, p); ds = word(dashes, p)
  set size 1, panel_px(p) * 1.0 / height
  set origin 0, 1 - (used + panel_px(p)) * 1.0 / height
  used = used + panel_px(p)
  set title sprintf("%s: %s", w, describe(w))
  set xlabel sprintf("latency (%s, log scale)", unitname(u))
  plot for [i=1:strlen(cs)] f index i - 1 using 1:2 with steps \
       lt int(cs[i:i]) dt int(ds[i:i]) title columnheader(1)
}
unset multiplot
