package server

import "time"

// SetWebsocketKeepAlive sets the websocket keepalive interval of servers
// created after it, and returns a function that restores it. Tests that
// call it must not run in parallel with others that create servers.
func SetWebsocketKeepAlive(d time.Duration) (restore func()) {
	old := wsKeepAlive
	wsKeepAlive = d
	return func() { wsKeepAlive = old }
}
