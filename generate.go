package main

// Generation order matters: ent (with entgql, which writes
// graph/ent.graphqls) first, then gqlgen from all of graph/*.graphqls.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go run -mod=mod github.com/99designs/gqlgen generate
