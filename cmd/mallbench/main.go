// Command mallbench loads a running mall server, one command per scenario:
//
//	mallbench flash       -url URL -db DATABASE_URL   storm one flash sale, check its invariants
//	mallbench subscribers -url URL -db DATABASE_URL   many websocket subscribers during a sale
//	mallbench catalog     -url URL                    catalogue queries per second
//	mallbench catalog     -compare -uncached URL -cached URL -db DATABASE_URL   the products page ÷ PostGraphile v4's, uncached and cached, exact after renames
//	mallbench chaos       [-seed N -duration D ...]   three instances under fire, then an audit of every invariant
//
// Setup (members, tokens, a product and a sale) goes straight into the
// server's database, so that thousands of buyers cost seconds; every
// measured request goes through the server's GraphQL endpoint. chaos runs
// the servers itself (and PostgreSQL, unless given one).
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "flash":
		err = flash(os.Args[2:])
	case "subscribers":
		err = subscribers(os.Args[2:])
	case "catalog":
		err = catalog(os.Args[2:])
	case "chaos":
		err = chaosRun(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mallbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: mallbench flash|subscribers|catalog|chaos [flags]  (-h for each command's flags)")
	os.Exit(2)
}
