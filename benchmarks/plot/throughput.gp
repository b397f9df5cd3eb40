# throughput.gp: tasks per second against -j, one line per competitor, from
# the data blocks throughput.awk writes.
#   gnuplot -e "datafile='throughput.dat'; outfile='throughput.png'; \
#               term='pngcairo'; jobs='1 8 64'; tasks='2000'; subtitle='...'" \
#           throughput.gp
# jobs: the -j values (x tics); tasks: the task count(s); both optional.
if (!exists("datafile")) datafile = "throughput.dat"
if (!exists("outfile")) outfile = "throughput.png"
if (!exists("jobs")) jobs = ""
if (!exists("tasks")) tasks = ""
if (!exists("subtitle")) subtitle = ""
width = 1000; height = 650
# common.gp sits next to this script.
plotdir = ""; rest = ARG0
while (strstrt(rest, "/") > 0) { k = strstrt(rest, "/"); plotdir = plotdir . rest[1:k]; rest = rest[k+1:] }
load plotdir . "common.gp"

what = (tasks eq "") ? "tasks of /bin/true" : sprintf("%s tasks of /bin/true", tasks)
set title sprintf("Throughput: %s, by parallel jobs%s", what, \
                  (subtitle eq "") ? "" : "\n" . subtitle)
set xlabel "parallel jobs (-j, log scale)"
set ylabel "tasks per second (median of rounds; bars: slowest to fastest round)"
set logscale x 2
set format x "%g"
if (words(jobs) > 0) {
  set xtics ()
  do for [w in jobs] { pos = w + 0; set xtics add (w pos) }
  jmin = word(jobs, 1) + 0; jmax = word(jobs, words(jobs)) + 0
  set xrange [jmin / 1.6 : jmax * 1.6]
}
set yrange [0:*]
set key outside right top vertical Left reverse box lc rgb "#aaaaaa" width 1 spacing 1.3
plot for [i=0:*] datafile index i using 1:2:3:4 with yerrorlines title columnheader(1)
