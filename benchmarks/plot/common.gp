# common.gp: terminal, colours and style shared by the plots; loaded by the
# other scripts after they set `term`, `outfile`, `width` and `height`.
if (!exists("term")) term = "pngcairo"
if (term eq "pngcairo") {
  set terminal pngcairo size width, height font "Sans,11" noenhanced
} else {
  set terminal png size width, height noenhanced
}
set output outfile
set datafile separator "\t"
set datafile commentschars "#"
set grid xtics ytics mxtics lc rgb "#cccccc"
set border 3 lc rgb "#555555"
set tics nomirror
# Colour-blind-friendly (Okabe-Ito); the first series (the floor, when there
# is one) in black.
set linetype 1 lc rgb "#000000" lw 2 pt 7 ps 1.0
set linetype 2 lc rgb "#0072B2" lw 2 pt 5 ps 1.0
set linetype 3 lc rgb "#D55E00" lw 2 pt 9 ps 1.2
set linetype 4 lc rgb "#009E73" lw 2 pt 11 ps 1.2
set linetype 5 lc rgb "#CC79A7" lw 2 pt 13 ps 1.2
set linetype 6 lc rgb "#E69F00" lw 2 pt 15 ps 1.0
set linetype 7 lc rgb "#56B4E9" lw 2 pt 4 ps 1.0
set linetype 8 lc rgb "#999999" lw 2 pt 6 ps 1.0
set linetype cycle 8
