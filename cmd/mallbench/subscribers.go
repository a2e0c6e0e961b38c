package main

import "fmt"

func subscribers(args []string) error {
	return fmt.Errorf("subscribers: not written yet")
}
