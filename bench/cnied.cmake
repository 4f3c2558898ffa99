# cnied: /v1/status throughput and p99 over TLS keep-alive (wrk), p99 while
# a signature runs, authenticate latency vs the emulator timing model's card
# floor, idle CPU and RSS (bench/run.d/cnied.sh).
if(TARGET cnied)
  add_dependencies(bench cnied)
endif()
