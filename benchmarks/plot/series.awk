# series.awk: samples CSV (long form, header lines skipped) -> lines
#   series <TAB> value <TAB> workload <TAB> unit <TAB> case <TAB> competitor
# where series numbers each (workload, case, competitor, unit) in order of
# first appearance, so that `sort -k1,1n -k2,2g` groups and sorts them.
# Names should hold no commas; when a row has more than five fields anyway
# (with a warning), the case runs until its parentheses balance, as in
# "saturated (/bin/true, -j8)", and the competitor is the rest.
BEGIN { FS = "," }
$1 == "workload" || NF < 5 { next }
{
  if (NF == 5) { kase = $2; comp = $3 }
  else {
    extra++
    kase = $2
    for (i = 3; i < NF - 2 && opens(kase) > closes(kase); i++) kase = kase "," $i
    comp = $i; for (i++; i <= NF - 2; i++) comp = comp "," $i
  }
  kase = tidy(kase); comp = tidy(comp)
  k = $1 FS kase FS comp FS $NF
  if (!(k in id)) id[k] = ++ids
  print id[k] "\t" $(NF - 1) "\t" $1 "\t" $NF "\t" kase "\t" comp
}
function opens(s) { return gsub(/\(/, "(", s) }
function closes(s) { return gsub(/\)/, ")", s) }
function tidy(s) { gsub(/^ +| +$/, "", s); gsub(/ *, */, ", ", s); return s }
END {
  if (extra) printf "series.awk: warning: %d sample rows have commas inside case or competitor names\n", extra > "/dev/stderr"
}
