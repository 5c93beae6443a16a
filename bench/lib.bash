# Shared by the bench scripts (source it from the repository root). Prints nothing by itself.

# Connection variables of a bench inventory: lab containers through the Docker API, with pipelining.
BENCH_CONNECTION="ansible_connection: community.docker.docker, ansible_user: root, ansible_pipelining: true,
         ansible_python_interpreter: /usr/bin/python3"

# The median of the numbers on stdin, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Runs a command with its output going to the file $1; prints its wall time in seconds, one decimal.
timed() {
  local log=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" > "$log"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f\n", e - s}'
}
