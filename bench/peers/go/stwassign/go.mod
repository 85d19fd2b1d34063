// go.mod — the Go peer of tricolor's stw_assign benchmark (standard library only).
module tricolor/stwassign

go 1.19
