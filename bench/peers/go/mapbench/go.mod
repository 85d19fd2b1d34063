// go.mod — the Go peer of tricolor's map benchmarks (standard library only).
module tricolor/mapbench

go 1.19
