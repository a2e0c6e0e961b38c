package main

import (
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"
)

func main() {}
